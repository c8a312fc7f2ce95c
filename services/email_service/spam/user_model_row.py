"""A user's own spam model learnt from feedback: plain arrays, never pickle."""

from __future__ import annotations

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned, new_id


class UserSpamModel(Base, TenantOwned):
    __tablename__ = "user_spam_models"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # numpy .npz bytes holding coef and intercept of the user's SGD model.
    weights: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    spam_labels: Mapped[int] = mapped_column(Integer, default=0)
    ham_labels: Mapped[int] = mapped_column(Integer, default=0)
