"""Spam API models: the strict feedback body (so "true" or 1 is a 422, not a silent label) and its answer."""

from __future__ import annotations

from pydantic import Field

from email_service.core.http.schemas import ResponseModel, StrictModel


class SpamFeedbackRequest(StrictModel):
    is_spam: bool


class SpamFeedbackResult(ResponseModel):
    email_id: str
    is_spam: bool
    spam_labels: int = Field(description="spam labels the caller's own model has learnt")
    ham_labels: int
    user_model_active: bool = Field(description="the user model joins the score once it has enough of both")


__all__ = ["SpamFeedbackRequest", "SpamFeedbackResult"]
