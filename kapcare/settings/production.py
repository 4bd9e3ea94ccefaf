"""Production: refuses to start without a secret key and allowed hosts; passes `check --deploy`."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, SECRET_KEY, env

if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")
# Keys printed in this repository are public. The example's placeholder never runs; compose's local-trial
# default runs only while the server answers to this machine alone.
if SECRET_KEY.startswith(("replace-with-", "dev-only-insecure")):
    raise ImproperlyConfigured("SECRET_KEY is the public example from .env.example: set a random value of your own.")
if "local-only-insecure" in SECRET_KEY and set(ALLOWED_HOSTS) - {"localhost", "127.0.0.1"}:
    raise ImproperlyConfigured(
        "SECRET_KEY is docker-compose.yml's public local-trial key, which serves only localhost: set your own."
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the host names this server answers to.")

DEBUG = False
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 63072000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
