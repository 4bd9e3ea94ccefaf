# KAPCare image: web (gunicorn), worker and beat (Celery) all run from it; see docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# WeasyPrint (the PDF of a patient's record export) draws text with Pango and HarfBuzz; DejaVu is the font
# the record's print stylesheet names.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
    libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# Runtime dependencies only, from the fully pinned list; a layer of its own so code edits reuse it.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image; whitenoise serves them (compressed, hashed names).
# Production settings refuse to load without a secret key and allowed hosts, so this one step gets
# throwaway values. They exist only for this RUN and are not kept in the image's environment.
RUN DJANGO_SETTINGS_MODULE=kapcare.settings.production \
    SECRET_KEY=collectstatic-build-step-only-throwaway-key-never-used-at-runtime \
    ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput -v0

# Run as an unprivileged user. The code stays root-owned (read-only to the app); var/ is the one
# writable folder (Celery beat's schedule file).
RUN groupadd --system kapcare \
 && useradd --system --gid kapcare --home-dir /app --no-create-home --shell /usr/sbin/nologin kapcare \
 && mkdir -p /app/var \
 && chown kapcare:kapcare /app/var
USER kapcare

ENV DJANGO_SETTINGS_MODULE=kapcare.settings.production
EXPOSE 8000
# Two sync workers suit a small machine (about 2 per core); --no-control-socket: gunicorn 27's runtime
# control socket would need a writable $HOME, and nothing in the container uses it.
CMD ["gunicorn", "kapcare.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--no-control-socket"]
