# One image for every role of email_service; the command picks the role (see PHASE_7_CELERY.md):
#   api     gunicorn -c python:email_service.gunicorn_conf -b 0.0.0.0:8000 email_service.wsgi:app   (default)
#   worker  celery -A email_service.worker worker -Q <queues> [-c <n>] -E -n <name>@%h
#           (concurrency CELERY_WORKER_CONCURRENCY unless -c; CELERY_WORKER_PREFETCH_MULTIPLIER,
#            CELERY_WORKER_MAX_TASKS_PER_CHILD, CELERY_WORKER_LOGLEVEL, TASK_SOFT_TIME_LIMIT and
#            TASK_TIME_LIMIT from the environment; a bad value stops the worker naming the variable)
#   beat    celery -A email_service.worker beat --loglevel INFO -s /app/var/celerybeat-schedule
#   flower  celery -A email_service.worker flower --port=5555 --address=0.0.0.0
#   watch   email-service watch   (IMAP IDLE watcher; run one or more, they split the accounts)
#   admin   email-service migrate | create-token ... | rotate-key | generate-key K
# The build context is allow-listed by .dockerignore (requirements, pyproject, services/).
# These are the commands `make run` starts (email_service/devserver.py `_commands()`), with container
# addresses and paths; tests/unit/ops/test_deploy_files.py keeps them in step.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: a self-contained virtualenv with the pinned requirements and the package ----
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Requirements first, so code changes do not invalidate the dependency layer.
COPY requirements.txt ./
# The test suites shipped inside numpy, scipy and scikit-learn (~65 MB) are never run in the image.
RUN pip install -r requirements.txt \
    && find /opt/venv/lib -depth -type d -name tests \
         \( -path '*/site-packages/numpy/*' -o -path '*/site-packages/scipy/*' -o -path '*/site-packages/sklearn/*' \) \
         -exec rm -rf {} +
COPY pyproject.toml ./
COPY services ./services
RUN pip install --no-deps . && python -c "import email_service.worker"

# ---- runtime: slim Python, the venv only, an unprivileged user ----
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    LOG_JSON=true
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var \
    && chown -R app:app /app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
USER app:app
# /app/var holds beat's schedule file (and the SQLite file if DATABASE_URL is left at its default).
VOLUME ["/app/var"]
EXPOSE 8000 5555
# API: GET /healthz; Flower: GET /healthcheck; worker and beat: always healthy (see healthcheck.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "email_service.ops.healthcheck"]
CMD ["gunicorn", "-c", "python:email_service.gunicorn_conf", "-b", "0.0.0.0:8000", "email_service.wsgi:app"]
