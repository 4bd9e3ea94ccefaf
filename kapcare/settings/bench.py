"""`make bench`: production-like serving (DEBUG off, persistent connections, the full middleware stack) against
the PostgreSQL that `seed_load` filled, plus what only the benchmark needs: the bare and floor reference views
(bench/urls.py), a query count per response (bench/middleware.py) and no second factor for the bench clients.
Never deploy with it."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE, STATIC_ROOT, env

DEBUG = False
SECRET_KEY = "bench-only-key-not-for-any-deployment-0123456789abcdefghij"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/kapcare_bench")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/9")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {}
# The clients are API tokens and pre-made sessions; enrolling TOTP for each would measure nothing.
KAPCARE_REQUIRE_MFA = False
ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
