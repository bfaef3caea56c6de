# syntax=docker/dockerfile:1
#
# Reference Chat production image: Daphne serving HTTP and WebSockets on 8000,
# static files collected at build time and served by WhiteNoise.
#
#   docker build -t reference-chat .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=... reference-chat python manage.py migrate --noinput
#   docker run -d -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=... -e REDIS_URL=... reference-chat
#
# See docs/deployment.md for the environment variables.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: the dependencies in a virtualenv at /opt/venv ----------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Only pyproject.toml: the project declares no packages of its own
# ([tool.setuptools] packages = []), so this installs the dependencies, and
# the layer is rebuilt only when they change. Every dependency ships a
# manylinux wheel for CPython 3.11, so no compiler is needed.
WORKDIR /build
COPY pyproject.toml ./
RUN pip install . \
 && pip uninstall --yes reference-chat

# --- translations: the .mo files Django reads, compiled from locale/*.po ---
# (msgfmt is GNU gettext's; the .mo files are never committed: README,
# "Translations"). Only this stage installs it; the runtime image doesn't.
FROM ${PYTHON_IMAGE} AS translations
RUN apt-get update \
 && apt-get install --yes --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY locale ./locale
RUN for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check-format -o "${po%.po}.mo" "$po" || exit 1; done

# --- runtime --------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=reference_chat.settings \
    DEBUG=false \
    SECURE_COOKIES=true \
    STATIC_ROOT=/app/staticfiles \
    VAR_DIR=/app/var

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# Source and collected static files stay owned by root (read-only to the
# app user); only VAR_DIR (SQLite when no DATABASE_URL, mail files when no
# EMAIL_URL) is writable. Mount a volume there to keep it.
COPY . .
COPY --from=translations /build/locale ./locale
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --noinput \
 && install -d -o app -g app -m 0750 /app/var

# The app user, by number (lets an orchestrator check it is not root).
USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

# Access logs are off on purpose: patron URLs carry the session token.
# --proxy-headers trusts X-Forwarded-For/-Proto: publish this port only to
# the proxy, never to the internet directly.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", \
     "--access-log", "/dev/null", "reference_chat.asgi:application"]
