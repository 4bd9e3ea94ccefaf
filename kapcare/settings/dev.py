"""`make run` and `manage.py` on a developer's machine: SQLite, console e-mail, no services needed."""

from .base import *  # noqa: F403
from .base import DATA_DIR, STATIC_ROOT, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
KAPCARE_REQUIRE_MFA = env.bool("KAPCARE_REQUIRE_MFA", default=False)

DATA_DIR.mkdir(exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server's threads and the Celery worker write at once. WAL lets readers go on while one writes;
    # IMMEDIATE takes the write lock at BEGIN, so a transaction never fails midway upgrading a read lock
    # (which no busy timeout can wait out); `timeout` is how long a writer waits for the lock (seconds).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
for folder in ("celery/queue", "celery/processed"):
    (DATA_DIR / folder).mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(exist_ok=True)
CELERY_WORKER_REDIRECT_STDOUTS = False  # console e-mails print in the terminal of `make run`
