"""Gunicorn entry point: `gunicorn email_service.wsgi:app`."""

from email_service import create_app

app = create_app()
