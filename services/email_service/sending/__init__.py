"""Sending: the outbox, MIME building, SMTP delivery, the Sent copy, the send task and API."""
