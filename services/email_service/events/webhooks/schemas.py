"""Webhook API models: registration, the endpoint as shown (never its secret after creation), deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from email_service.core.http.schemas import Absent, ParamsModel, ResponseModel, StrictModel
from email_service.events.model import EVENT_TYPES
from email_service.events.webhooks.registry import MAX_EVENTS, MAX_URL

MAX_PAGE = 200
EVENTS_HELP = f"event types among {', '.join(EVENT_TYPES)}, or '*' for all"
DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookCreate(StrictModel):
    url: str = Field(min_length=1, max_length=MAX_URL, description="http(s) URL under the outbound policy")
    events: list[str] = Field(min_length=1, max_length=MAX_EVENTS, description=EVENTS_HELP)


class WebhookUpdate(StrictModel):
    """Any subset; `enabled: true` re-enables a disabled endpoint (its failure count starts again)."""

    url: Annotated[str, Field(min_length=1, max_length=MAX_URL)] | Absent = None
    events: Annotated[list[str], Field(min_length=1, max_length=MAX_EVENTS)] | Absent = None
    enabled: bool | Absent = None

    @model_validator(mode="after")
    def _no_nulls(self) -> WebhookUpdate:
        """Every field is NOT NULL: leave a field out to keep it."""
        nulled = sorted(n for n in self.model_fields_set if getattr(self, n) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self


class WebhookView(ResponseModel):
    id: str
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None = Field(description="why deliveries stopped, when disabled")
    consecutive_failures: int = Field(description="events in a row whose every attempt failed")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class CreatedWebhook(WebhookView):
    secret: str = Field(description="whsec_…: the signing secret, shown only in this answer")


class WebhookPage(ResponseModel):
    items: list[WebhookView]
    next_cursor: str | None


class PageQuery(ParamsModel):
    cursor: str | Absent = Field(default=None, description="next_cursor of the previous page")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | Absent = Field(default=None, description="only deliveries in this state")


class DeliveryView(ResponseModel):
    id: str = Field(description="the webhook-id header of every attempt (receivers dedupe on it)")
    change_id: str = Field(description="the change's id in GET /api/changes")
    type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str | None
    last_attempt_at: AwareDatetime | None
    next_attempt_at: AwareDatetime | None
    created_at: AwareDatetime


class DeliveryPage(ResponseModel):
    items: list[DeliveryView]
    next_cursor: str | None
