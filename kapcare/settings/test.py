"""pytest: the real PostgreSQL and Redis on 127.0.0.1 (`make test` starts them when needed)."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import STATIC_ROOT, env

SECRET_KEY = "test-only-key"  # noqa: S105 (tests only)
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/kapcare")}
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["ENGINE"] = "tests.database"  # Django's PostgreSQL backend with a faster flush
# A commit does not wait for its WAL to reach the disk (about 4 ms each here): the test databases are thrown away,
# and PostgreSQL stays consistent after a crash either way. Most tests roll back; the browser journeys, the
# transactional tests, the drills' workers and each test database's migrate commit.
DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), "options": "-c synchronous_commit=off"}


def _redis_for_this_worker(url):
    """Under pytest-xdist each worker gets the Redis database after the previous worker's (gw0 the given one,
    gw1 the next...), as pytest-django gives each its own PostgreSQL database: one worker's cache.clear()
    (FLUSHDB) must not wipe another's allauth rate limits and used TOTP codes mid-test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, number = url.rstrip("/").rpartition("/")
    if not number.isdigit():
        base, number = url.rstrip("/"), "0"
    database = int(number) + int(worker[2:])
    if database > 15:
        raise ImproperlyConfigured(
            f"Redis database {database} for {worker}: use a lower TEST_REDIS_URL or fewer workers"
        )
    return f"{base}/{database}"


REDIS_URL = _redis_for_this_worker(env("REDIS_URL", default="redis://127.0.0.1:6379/8"))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
KAPCARE_REQUIRE_MFA = True
# Celery as in production (not eager): a task is published to the broker and nothing runs it, unless the test is
# marked `celery_eager` (tests/fixtures.py: it runs inline) or starts a worker (the drills, the privacy canary).
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Argon2 is the production hasher (tests/test_settings.py checks it); tests use a fast one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Look static files up when asked, not by scanning every file whenever a test client starts (each `client` and `api`
# builds its own middleware: the scan was a tenth of a second per test).
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(exist_ok=True)
# kapcare.prepared: the first 50 calls of each kept query in a worker are checked against a fresh build of their own
# values (every call was: a second build and compile of each read, about 2% of the suite, which builds few shapes).
KAPCARE_PREPARED_CHECK = 50
