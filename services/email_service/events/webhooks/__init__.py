"""Signed webhooks (Standard Webhooks) fed by the change log: registration, fan-out, delivery, retries.

A delivery row is written in the same transaction as the change it carries (events/log.py), so an
event is never lost between the log and the webhooks; a Celery task on the `webhooks` queue posts it
after commit, and a beat sweep picks up whatever the broker lost.
"""
