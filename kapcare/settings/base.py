"""Settings shared by every environment. Each value comes from the environment.

Every variable read here is listed, with a comment, in `.env.example` and the README;
`tests/test_deployment.py` keeps those lists, docker-compose.yml and this module in step.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# `make run`'s files: the SQLite database, the folder broker, the file cache, beat's schedule.
DATA_DIR = Path(env("KAPCARE_DATA_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'kapcare.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis serves the cache (login rate limits, used TOTP codes) and is Celery's broker.
# Without it (`make run`), the cache is a file folder shared by all local processes.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

INSTALLED_APPS = [
    # Django's admin on KAPCare's site: allauth's login (second factor, rate limits), every change audited.
    "kapcare.accounts.admin_site.KapcareAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "kapcare.accounts",
    "kapcare.audit",
    "patients",
    "assessments",
    "treatment",
    "messaging",
    "messaging.reminders",
    "records",
    "outcomes",
    "demo",
    "network.apps.NetworkConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files may be cached): every other response may carry patient data.
    "kapcare.middleware.NoStoreMiddleware",
    "kapcare.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: a timed-out session is sent to the login page with a message saying why.
    "kapcare.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "kapcare.middleware.RequireMFAMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Flash messages can name a patient or a score: keep them in the server-side session, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "kapcare.urls"
WSGI_APPLICATION = "kapcare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kapcare.context_processors.session_timeout",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# Sessions: idle limits by role and an absolute limit (kapcare.middleware.SessionTimeoutMiddleware).
KAPCARE_IDLE_TIMEOUT_STAFF = timedelta(minutes=15)
KAPCARE_IDLE_TIMEOUT_PATIENT = timedelta(minutes=30)
KAPCARE_SESSION_ABSOLUTE_LIMIT = timedelta(hours=12)
SESSION_COOKIE_AGE = int(KAPCARE_SESSION_ABSOLUTE_LIMIT.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Second factor for clinicians and coordinators; on unless the environment turns it off.
KAPCARE_REQUIRE_MFA = env.bool("KAPCARE_REQUIRE_MFA", default=True)
# The dashboards' kept queries as server-side prepared statements on PostgreSQL (kapcare.prepared); off behind a
# connection pooler in transaction mode, which does not keep a session's statements.
KAPCARE_SERVER_PREPARED_STATEMENTS = env.bool("KAPCARE_SERVER_PREPARED_STATEMENTS", default=True)

# django-allauth: e-mail login, verified addresses, no public sign-up (accounts come from referrals).
ACCOUNT_ADAPTER = "kapcare.accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = False
# Throttling, not lockout: the `key` of login_failed is the account *and* the client address
# (kapcare.accounts.adapter.AccountAdapter), so a stranger's wrong passwords never keep the real person out.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    # The public "join the network" form (network.joining): per address, and per e-mail applied with.
    "network_application": "10/h/ip,3/h/key",
}
MFA_ADAPTER = "kapcare.accounts.adapter.MFAAdapter"  # stores second-factor secrets encrypted
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "KAPCare"
MFA_TOTP_TOLERANCE = 1

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# The address patients and clinicians reach KAPCare at, for links in e-mails (no trailing slash).
KAPCARE_BASE_URL = env("KAPCARE_BASE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="KAPCare <no-reply@kapcare.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Files only their owner and coordinators may read (training certificates): outside any public URL, served
# only through access-checked views (network.training.storage).
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", default=str(DATA_DIR / "private")))
CERTIFICATE_MAX_BYTES = env.int("CERTIFICATE_MAX_BYTES", default=5 * 1024 * 1024)
# Continuing-education hours the network expects of each clinician per calendar year (the transcript's target).
NETWORK_CE_HOURS_PER_YEAR = env.int("NETWORK_CE_HOURS_PER_YEAR", default=12)

REST_FRAMEWORK = {
    # Token first: an unauthenticated API call answers 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kapcare.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["kapcare.api.permissions.IsAuthenticatedWithSecondFactor"],
    "DEFAULT_PAGINATION_CLASS": "kapcare.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "kapcare.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "kapcare.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["kapcare.api.parsers.BoundedJSONParser"],
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=30)),
    "AUTH_HEADER_PREFIX": "Token",
}
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 (a model name; kapcare.accounts.ApiToken refers to it)
API_TOKEN_MAX_DAYS = 365  # every token expires (kapcare.accounts.services.api_token_create)
# Request bodies: Django's limit (2.5 MB) also bounds what the API's JSON parser reads, and JSON may nest
# this deep at most (kapcare.api.parsers.BoundedJSONParser).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
API_JSON_MAX_DEPTH = 32
SPECTACULAR_SETTINGS = {
    "TITLE": "KAPCare API",
    "DESCRIPTION": "Collaborative ketamine-assisted psychotherapy: patients, care teams and their records.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI served from our own static files (no CDN), its script from a URL (no inline script).
    "ENUM_NAME_OVERRIDES": {
        "ReferralReasonEnum": "patients.models.Referral.Reason",
        "IntakeStatusEnum": "assessments.models.Intake.Status",
        "EvaluationStatusEnum": "assessments.models.Evaluation.Status",
        "FlagReviewOutcomeEnum": "assessments.models.EvaluationFlagReview.Outcome",
        "DosePlanStatusEnum": "treatment.models.DosePlan.Status",
        "SessionKindEnum": "treatment.models.TherapySession.Kind",
        "SessionStatusEnum": "treatment.models.TherapySession.Status",
        "EvaluationDecisionEnum": "assessments.models.Evaluation.Decision",
        "FollowUpDecisionEnum": "treatment.models.FollowUp.Decision",
        "AdverseEventKindEnum": "treatment.models.AdverseEvent.Kind",
        "AdverseEventSeverityEnum": "treatment.models.AdverseEvent.Severity",
        "AdverseEventActionEnum": "treatment.models.AdverseEvent.Action",
        "SafetyAlertSeverityEnum": "patients.models.SafetyAlert.Severity",
        "USStateEnum": "kapcare.us_states.USState",
        "VisitKindEnum": "treatment.visits.models.Visit.Kind",
        "StockEntryKindEnum": "treatment.prescriptions.models.StockEntry.Kind",
        "PrescriptionChannelEnum": "treatment.prescriptions.models.Prescription.Channel",
        "CredentialCheckOutcomeEnum": "network.joining.models.CredentialCheck.Outcome",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kapcare.api.errors.document_error_responses",
    ],
}

# Content Security Policy: no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Celery: the broker defaults to Redis when REDIS_URL is set; `make run` uses a folder instead.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = DATA_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(DATA_DIR / "celery" / "processed"),
        "control_folder": str(DATA_DIR / "celery" / "control"),  # else kombu writes ./control/ in the checkout
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Redis hands an unacknowledged task (acks_late) to another worker after the visibility timeout: it must
# be above the longest task (the 300 s hard limit), or a slow task would run twice.
BROKER_VISIBILITY_TIMEOUT = 3600
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT}
# When Redis goes away a running task finishes and records its outcome on its row; its message, not
# acknowledged, comes back and finds nothing left to claim.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Reminders (messaging.reminders.outbox): a row left `sending` longer than this is taken back by the
# sweeper; above the task hard time limit, so a send still running is never taken back.
REMINDER_SENDING_TIMEOUT = 600
REMINDER_REDISPATCH_AFTER = 300  # a due row whose task was published this long ago is published again
REMINDER_RETRY_BASE = 60  # backoff after a transient failure: 1, 4, 16 minutes, then hourly
REMINDER_MAX_ATTEMPTS = 5
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request lines carry only method, path (ids, never patient data) and status.
        "django.request": {"level": "WARNING"},
        # WeasyPrint's font subsetting (record exports) logs every glyph it keeps at INFO.
        "fontTools": {"level": "WARNING"},
    },
}
