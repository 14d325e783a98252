"""Customer records (客户档案), their phones and the history of every change."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db

TIERS = ("ordinary", "vip")


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (CheckConstraint("tier IN ('ordinary', 'vip')", name="tier_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    area: Mapped[str] = mapped_column(String(100), default="", index=True)
    tier: Mapped[str] = mapped_column(String(20), default="ordinary")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", lazy="selectin",
        order_by="CustomerPhone.id")
    changes: Mapped[list[CustomerChange]] = relationship(
        back_populates="customer", order_by="CustomerChange.id.desc()", viewonly=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def phone_numbers(self) -> list[str]:
        return [p.number for p in self.phones]

    @property
    def is_vip(self) -> bool:
        return self.tier == "vip"


class CustomerPhone(db.Model):
    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("customer_id", "number", name="customer_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # Digits only (a leading + kept), so lookups by caller number are exact index hits.
    number: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str] = mapped_column(String(40), default="")

    customer: Mapped[Customer] = relationship(back_populates="phones")


class CustomerChange(db.Model):
    """Append-only: who changed which field of a customer, from what to what, when."""

    __tablename__ = "customer_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"),
                                             index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(20), default="update")  # create / update
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field: [old, new]

    customer: Mapped[Customer] = relationship(back_populates="changes")
    actor = relationship("User", lazy="joined")
