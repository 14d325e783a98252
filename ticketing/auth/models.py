"""Departments, users, roles with permissions as data, and API tokens."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import (CheckConstraint, Column, ForeignKey, String, Table, Text, bindparam,
                        select)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ticketing.clock import utcnow
from ticketing.db import Base
from ticketing.extensions import db

DEPARTMENT_KINDS = ("call_center", "operations", "inspection", "repair", "repair_team",
                    "callback", "supervision", "dispatch", "management", "other")

user_roles = Table(
    "user_roles", Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Department(db.Model):
    __tablename__ = "departments"
    __table_args__ = (
        CheckConstraint("kind IN (%s)" % ", ".join(f"'{k}'" for k in DEPARTMENT_KINDS),
                        name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(20), default="other")
    active: Mapped[bool] = mapped_column(default=True)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")  # edits (kept.py)

    def display_name(self, locale: str | None) -> str:
        return self.name_en if (locale or "").startswith("en") and self.name_en else self.name

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class RolePermission(db.Model):
    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"),
                                         primary_key=True)
    permission: Mapped[str] = mapped_column(String(60), primary_key=True)


class Role(db.Model):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    label_en: Mapped[str] = mapped_column(String(100), default="")
    grants: Mapped[list[RolePermission]] = relationship(cascade="all, delete-orphan",
                                                         lazy="selectin")

    @property
    def permissions(self) -> set[str]:
        return {g.permission for g in self.grants}

    def set_permissions(self, codes) -> None:
        wanted = set(codes)
        self.grants = [g for g in self.grants if g.permission in wanted]
        have = {g.permission for g in self.grants}
        for code in sorted(wanted - have):
            self.grants.append(RolePermission(permission=code))

    def display_name(self, locale: str | None) -> str:
        return self.label_en if (locale or "").startswith("en") and self.label_en else self.label


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("locale IN ('zh', 'en')", name="locale_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(100), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    locale: Mapped[str] = mapped_column(String(5), default="zh")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship(lazy="joined")
    # Lazy: a request asks `can()`, answered by one query (permissions below), not by
    # loading roles and their grants; pages listing roles load them with selectinload.
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="select")

    # The login session this object was loaded for (see LoginSession): Flask-Login keeps
    # get_id() in the session cookie, so ending the row ends that cookie.
    login_key = None  # str | None; a plain attribute, not a column

    def get_id(self) -> str:
        return f"{self.id}:{self.login_key}" if self.login_key else str(self.id)

    def set_password(self, password: str) -> None:
        # scrypt: werkzeug's default, memory-hard. PASSWORD_HASH_METHOD tunes its cost
        # ("scrypt:N:r:p"); each stored hash names its own, so old hashes keep working.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") \
            if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def permissions(self) -> set[str]:
        cached = self.__dict__.get("_permissions")
        if cached is None:
            session = object_session(self)
            if "roles" in self.__dict__ or session is None or self.id is None:
                cached = set().union(*(r.permissions for r in self.roles)) if self.roles \
                    else set()
            else:
                cached = set(session.scalars(_PERMISSIONS_OF_USER, {"user_id": self.id}))
            self.__dict__["_permissions"] = cached
        return cached

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username}>"


_PERMISSIONS_OF_USER = (
    select(RolePermission.permission).distinct()
    .join(user_roles, user_roles.c.role_id == RolePermission.role_id)
    .where(user_roles.c.user_id == bindparam("user_id")))


class ApiToken(db.Model):
    """A bearer token for integrations; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_valid(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None
                                            or self.expires_at > utcnow())


class LoginSession(db.Model):
    """One browser login. The cookie names it by a random key (only its SHA-256 is stored);
    logout, a password change, deactivation or "log out everywhere" set ended_at, after which
    a replayed cookie is worthless."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    hash = staticmethod(ApiToken.hash)


class LoginFailure(db.Model):
    """One failed login, counted per username and per client address (ticketing.throttle)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


AUDIT_ACTIONS = ("user.created", "user.updated", "role.permissions_changed", "token.revoked",
                 "sessions.ended")


class AuditEntry(db.Model):
    """Append-only: who changed which user, role or permission, when, and what changed."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("action IN (%s)" % ", ".join(f"'{a}'" for a in AUDIT_ACTIONS),
                        name="action_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # None: the command line (an operator at the server).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int | None]
    target_name: Mapped[str] = mapped_column(String(100), default="")
    details_json: Mapped[str] = mapped_column(Text, default="{}")

    actor: Mapped[User | None] = relationship(lazy="joined")

    @property
    def details(self) -> dict:
        return json.loads(self.details_json or "{}")


__all__ = ["Department", "Role", "RolePermission", "User", "ApiToken", "LoginSession",
           "LoginFailure", "AuditEntry", "user_roles", "DEPARTMENT_KINDS", "AUDIT_ACTIONS"]

