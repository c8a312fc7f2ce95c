"""Celery entry point: `celery -A email_service.worker worker -Q sync`."""

from email_service.tasks.celery_app import celery_app

app = celery_app
