"""Request body for spam feedback: strict, so "true" or 1 is a 422, not a silent label."""

from __future__ import annotations

from email_service.core.http.schemas import StrictModel


class SpamFeedbackRequest(StrictModel):
    is_spam: bool


__all__ = ["SpamFeedbackRequest"]
