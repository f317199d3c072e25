# The Logicnet CRM application image: web (gunicorn), worker and beat all run it.
# See docker-compose.yml for how the services are wired and README.md for configuration.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image (WhiteNoise serves them). Settings refuse to
# import without these variables; the placeholders are never used to connect to anything.
RUN DEBUG=0 \
    SECRET_KEY=collectstatic-at-build-time-only \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL="postgresql://build@/build?host=/nonexistent" \
    REDIS_URL=redis://build.invalid:6379/0 \
    ENCRYPTION_MASTER_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    AUDIT_MAC_KEY=collectstatic-at-build-time-only-never-used \
    python manage.py collectstatic --no-input

# Run as an unprivileged user. /data holds uploads, exports and the beat schedule; the
# compose file mounts named volumes there (they inherit this ownership on first use).
RUN useradd --system --uid 10001 --home-dir /app --no-create-home logicnet \
    && mkdir -p /data \
    && chown logicnet:logicnet /data
ENV LOGICNET_DATA_DIR=/data
USER logicnet

EXPOSE 8000
# Access lines without query strings (logicnet/gunicorn_config.py).
CMD ["gunicorn", "logicnet.wsgi", "--bind", "0.0.0.0:8000", "--config", "python:logicnet.gunicorn_config"]
