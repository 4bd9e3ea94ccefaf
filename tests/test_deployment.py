"""Deployment: docker-compose.yml, Dockerfile, .env.example and README.md agree with the settings,
and the production settings are safe. No docker engine is needed: the files are read, and the
production settings are loaded in short subprocesses with a controlled environment."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
# A name the settings read through django-environ: env("X"), env.bool("X"), env.db("X"), ...
ENV_READ = re.compile(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"')
PRODUCTION_DB = "postgres://postgres@127.0.0.1:5432/postgres"


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_of(service):
    command = compose()["services"][service]["command"]
    return " ".join(command) if isinstance(command, list) else command


def environment_names(service):
    """Every variable name the compose file gives a service, through `environment` and `env_file`."""
    spec = compose()["services"][service]
    environment = spec.get("environment") or {}
    names = set(environment) if isinstance(environment, dict) else {item.split("=")[0] for item in environment}
    env_files = spec.get("env_file") or []
    for entry in [env_files] if isinstance(env_files, str | dict) else env_files:
        path = entry["path"] if isinstance(entry, dict) else entry
        for line in (ROOT / path).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                names.add(line.split("=", 1)[0].strip())
    return names


def settings_names():
    """Every environment variable the settings modules read, plus the one that picks the module."""
    names = {"DJANGO_SETTINGS_MODULE"}
    for module in (ROOT / "kapcare" / "settings").glob("*.py"):
        names |= set(ENV_READ.findall(module.read_text()))
    return names


def env_example_names():
    """Names assigned in .env.example, including optional ones written as `# NAME=default`."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))


def run_production(args, **overrides):
    """Run `python <args>` from the project root under production settings and only the given variables."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "kapcare.settings.production",
        "DATABASE_URL": PRODUCTION_DB,
        **overrides,
    }
    environment = {name: value for name, value in environment.items() if value is not None}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def production_env():
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "ALLOWED_HOSTS": "kapcare.example.org",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }


# 1. docker compose: the services, their commands, and the objects those commands name.


def test_compose_has_every_service():
    assert {"db", "redis", "web", "worker", "beat", "mail"} <= set(compose()["services"])


def test_compose_commands_name_the_wsgi_and_celery_apps():
    web = command_of("web")
    assert "manage.py migrate" in web
    assert "gunicorn kapcare.wsgi:application" in web
    assert "0.0.0.0:8000" in web
    assert web.index("migrate") < web.index("gunicorn")
    assert "celery -A kapcare worker" in command_of("worker")
    assert "celery -A kapcare beat" in command_of("beat")
    assert "8000:8000" in [str(port) for port in compose()["services"]["web"]["ports"]]


def test_compose_services_are_health_checked_and_ordered():
    services = compose()["services"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("db", "redis", "web"):
        assert services[name].get("healthcheck"), f"{name} has no healthcheck"
    assert services["web"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in APP_SERVICES:
        assert services[name]["build"] == "."


def test_the_objects_the_commands_name_exist():
    import kapcare.celery
    import kapcare.wsgi

    assert callable(kapcare.wsgi.application)
    assert kapcare.celery.app.main == "kapcare"


def test_dockerfile_builds_a_non_root_gunicorn_image_with_collected_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert instructions[0].startswith("FROM python:3.11-slim")
    assert "pip install -r requirements.txt" in dockerfile
    assert "requirements-dev" not in dockerfile
    assert "collectstatic" in dockerfile
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users, "the image must switch to an unprivileged user"
    assert users[-1] not in {"root", "0"}
    cmd = next(line for line in reversed(instructions) if line.startswith("CMD "))
    assert "kapcare.wsgi:application" in cmd
    assert "0.0.0.0:8000" in cmd


# 2. One list of variables: what the settings read is what compose, .env.example and README give.


def test_compose_gives_the_app_only_variables_the_settings_read():
    known = settings_names()
    for service in APP_SERVICES:
        unknown = environment_names(service) - known
        assert not unknown, f"{service} sets variables no setting reads: {sorted(unknown)}"
    assert environment_names("web") >= {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}
    assert environment_names("web") == environment_names("worker") == environment_names("beat")


def test_compose_runs_production_settings_with_a_local_only_default_key():
    environment = compose()["services"]["web"]["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "kapcare.settings.production"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:-")
    default_key = environment["SECRET_KEY"].removeprefix("${SECRET_KEY:-").removesuffix("}")
    assert "local-only" in default_key
    assert len(default_key) >= 50


def test_every_variable_the_settings_read_is_documented():
    names = settings_names()
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= names
    missing = names - env_example_names()
    assert not missing, f".env.example lacks {sorted(missing)}"
    assert "PORT" in env_example_names()
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in names if not re.search(rf"\b{name}\b", readme)}
    assert not missing, f"README.md lacks {sorted(missing)}"


def test_every_variable_in_env_example_has_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^#?\s*[A-Z][A-Z0-9_]*=", line):
            previous = lines[index - 1] if index else ""
            assert previous.startswith("#") and not re.match(r"^#\s*[A-Z][A-Z0-9_]*=", previous), (
                f"no comment above {line!r}"
            )


# 3-5. Production settings, loaded for real in a subprocess.


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"ALLOWED_HOSTS": "kapcare.example.org"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": "kapcare.example.org", "SECRET_KEY": "too-short"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 20 + secrets.token_urlsafe(48)}, "ALLOWED_HOSTS"),
    ],
    ids=["no-secret-key", "short-secret-key", "no-allowed-hosts"],
)
def test_production_refuses_to_start_without_its_secrets(overrides, named):
    result = run_production(["manage.py", "check"], **overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]


def test_production_passes_check_deploy_with_no_warning():
    result = run_production(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRINT_PRODUCTION = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
host = {"HTTP_HOST": "kapcare.example.org"}
secure = client.get("/healthz", secure=True, **host)
plain = client.get("/api/v1/nothing-here/", **host)  # JSON 404: no template, no table
plain_health = client.get("/healthz", **host)
print(json.dumps({
    "hasher": settings.PASSWORD_HASHERS[0],
    "debug": settings.DEBUG,
    "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "hsts_header": secure.headers.get("Strict-Transport-Security", ""),
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
    "plain_health_status": plain_health.status_code,
}))
"""


def production_values(**overrides):
    result = run_production(["-c", PRINT_PRODUCTION], **{**production_env(), **overrides})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_hashes_with_argon2_and_sends_hsts_and_secure_cookies():
    values = production_values()
    assert values["hasher"] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert values["debug"] is False
    assert values["hsts_seconds"] >= 31536000
    assert "max-age=" in values["hsts_header"]
    assert "includeSubDomains" in values["hsts_header"]
    assert values["session_cookie_secure"] is True
    assert values["csrf_cookie_secure"] is True
    assert values["ssl_redirect"] is True
    assert values["plain_status"] == 301
    assert values["plain_location"] == "https://kapcare.example.org/api/v1/nothing-here/"
    # A load balancer probes /healthz over plain http: it is exempt from the redirect.
    assert values["plain_health_status"] in {200, 503}


def test_local_http_switches_turn_off_the_redirect_and_secure_cookies():
    values = production_values(SECURE_SSL_REDIRECT="false", SECURE_COOKIES="false")
    assert values["ssl_redirect"] is False
    assert values["session_cookie_secure"] is False
    assert values["csrf_cookie_secure"] is False
    assert values["plain_status"] == 404


# 6. Content Security Policy.


def test_csp_allows_no_inline_script_or_style(client, db):
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for directive in ("script-src", "style-src"):
        sources = directives.get(directive, directives["default-src"])
        assert "'unsafe-inline'" not in sources, directive
        assert "'unsafe-eval'" not in sources, directive
    header = client.get("/healthz").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "script-src 'self'" in header


# 7. Health check.


def test_healthz_answers_ok_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["status"] == "ok"


def test_the_pages_stylesheet_and_script_are_served_without_login(client, db):
    """WhiteNoise serves the static files the pages link (in the tests found on request, not scanned up front)."""
    for path, kind in (("/static/css/kapcare.css", "text/css"), ("/static/img/favicon.svg", "image/svg+xml")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith(kind), path
        assert b"".join(response.streaming_content), path
    assert client.get("/static/css/no-such-file.css").status_code == 404


def _env_example_secret_key():
    line = next(line for line in (ROOT / ".env.example").read_text().splitlines() if line.startswith("SECRET_KEY="))
    return line.removeprefix("SECRET_KEY=")


def test_production_refuses_the_published_example_key():
    """Issue 13: the key printed in .env.example (what a copied .env, and so compose, would run with) never runs."""
    result = run_production(["manage.py", "check"], **{**production_env(), "SECRET_KEY": _env_example_secret_key()})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert ".env.example" in result.stderr.strip().splitlines()[-1]


def test_compose_local_key_serves_localhost_only():
    default_key = compose()["services"]["web"]["environment"]["SECRET_KEY"].removeprefix("${SECRET_KEY:-")[:-1]
    local = run_production(["manage.py", "check"], **{**production_env(), "SECRET_KEY": default_key})
    local_only = {**production_env(), "SECRET_KEY": default_key, "ALLOWED_HOSTS": "localhost,127.0.0.1"}
    served = run_production(["manage.py", "check"], **local_only)

    assert local.returncode != 0 and "local-trial key" in local.stderr
    assert served.returncode == 0, served.stderr
