"""Account operations: they flush, never commit; the caller (request, CLI) commits."""
import json
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ticketing.auth import throttle
from ticketing.auth.models import (ApiToken, AuditEntry, Department, LoginSession, Role,
                                   RolePermission, User, user_roles)
from ticketing.auth.permissions import DEFAULT_ROLES, all_permissions, default_permissions
from ticketing.clock import utcnow
from ticketing.errors import ApiError, InvalidInput
from ticketing.extensions import db

# Departments of SPEC §1 (code, name, English name, kind).
DEFAULT_DEPARTMENTS = [
    ("call_center", "呼叫中心", "Call center", "call_center"),
    ("operations", "运营部", "Operations", "operations"),
    ("inspection", "稽查部", "Inspection", "inspection"),
    ("dispatch", "调度中心", "Dispatch center", "dispatch"),
    ("repair", "维修部", "Repair department", "repair"),
    ("repair_team_1", "维修一队", "Repair team 1", "repair_team"),
    ("repair_team_2", "维修二队", "Repair team 2", "repair_team"),
    ("callback", "回访组", "Callback team", "callback"),
    ("supervision", "监管组", "Supervision", "supervision"),
    ("management", "中心管理层", "Center management", "management"),
]



def ensure_reference_data() -> None:
    """Create the default departments and roles if missing (idempotent; never overwrites)."""
    have_depts = set(db.session.scalars(select(Department.code)))
    for code, name, name_en, kind in DEFAULT_DEPARTMENTS:
        if code not in have_depts:
            db.session.add(Department(code=code, name=name, name_en=name_en, kind=kind))
    have_roles = set(db.session.scalars(select(Role.name)))
    for name, (label, label_en) in DEFAULT_ROLES.items():
        if name not in have_roles:
            role = Role(name=name, label=label, label_en=label_en)
            role.set_permissions(sorted(default_permissions(name)))
            db.session.add(role)
    db.session.flush()


def role_by_name(name: str) -> Role | None:
    return db.session.scalar(select(Role).where(Role.name == name))


def department_by_code(code: str) -> Department | None:
    return db.session.scalar(select(Department).where(Department.code == code))


def validate_password(password: str) -> list[str]:
    if len(password or "") < 8:
        return [_("A password needs at least 8 characters.")]
    return []


def create_user(username: str, password: str, role_names: list[str],
                department_code: str | None = None, full_name: str = "",
                locale: str = "zh", actor: User | None = None) -> User:
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not username or len(username) > 60 or not username.replace("_", "").replace(
            ".", "").replace("-", "").isalnum():
        errors["username"] = [_("Use 1–60 letters, digits, dots, dashes or underscores.")]
    elif db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = [_("This username is taken.")]
    if problems := validate_password(password):
        errors["password"] = problems
    roles = []
    for name in role_names or []:
        role = role_by_name(name)
        if role is None:
            errors.setdefault("role", []).append(_("Unknown role: %(name)s", name=name))
        else:
            roles.append(role)
    if not role_names:
        errors["role"] = [_("Give the user at least one role.")]
    department = None
    if department_code:
        department = department_by_code(department_code)
        if department is None:
            errors["department"] = [_("Unknown department: %(code)s", code=department_code)]
    if locale not in ("zh", "en"):
        errors["locale"] = [_("Choose Chinese or English.")]
    if errors:
        raise InvalidInput(errors)
    user = User(username=username, full_name=full_name, department=department, locale=locale,
                roles=roles)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit(actor, "user.created", user, {
        "roles": sorted(r.name for r in roles),
        "department": department.code if department else None})
    return user


def issue_token(user: User, name: str = "", days: int = 90) -> tuple[str, ApiToken]:
    """Returns the token once (only its hash is kept) and its row."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=ApiToken.hash(token), name=name,
                   expires_at=utcnow() + timedelta(days=days))
    db.session.add(row)
    db.session.flush()
    return token, row


def revoke_token(token: ApiToken, actor: User | None) -> None:
    """Idempotent: a revoked token stays revoked at its first time."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit(actor, "token.revoked", token.user, {"token_id": token.id,
                                                          "name": token.name})
        db.session.flush()


def start_login_session(user: User, user_agent: str = "") -> str:
    """A new browser login; returns its key (kept in the cookie through user.get_id())."""
    key = secrets.token_urlsafe(24)
    db.session.add(LoginSession(user_id=user.id, key_hash=LoginSession.hash(key),
                                user_agent=(user_agent or "")[:200], last_seen_at=utcnow()))
    db.session.flush()
    user.login_key = key
    return key


def end_login_session(user: User) -> None:
    """Logout: the cookie of this login is worthless from now on."""
    if user.login_key:
        db.session.execute(update(LoginSession).where(
            LoginSession.user_id == user.id,
            LoginSession.key_hash == LoginSession.hash(user.login_key),
            LoginSession.ended_at.is_(None)).values(ended_at=utcnow()))


def end_all_sessions(user: User, actor: User | None, reason: str) -> dict:
    """Every browser session and every API token of `user` ends (password change or reset,
    deactivation, "log out everywhere")."""
    now = utcnow()
    sessions = db.session.execute(update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=now)).rowcount
    tokens = db.session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session="fetch")).rowcount
    ended = {"reason": reason, "sessions": sessions, "tokens": tokens}
    record_audit(actor, "sessions.ended", user, ended)
    db.session.flush()
    return ended


# --- audit log ------------------------------------------------------------------------------

def record_audit(actor: User | None, action: str, target, details: dict) -> AuditEntry:
    """One append-only row per change to a user, role or permission (actor None: the CLI)."""
    target_type = "role" if isinstance(target, Role) else "user"
    name = target.name if isinstance(target, Role) else target.username
    entry = AuditEntry(actor_id=actor.id if actor is not None else None, action=action,
                       target_type=target_type, target_id=target.id, target_name=name,
                       details_json=json.dumps(details, ensure_ascii=False, sort_keys=True,
                                               default=str))
    db.session.add(entry)
    return entry


def audit_entries(limit: int = 50, before_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return db.session.scalars(query).all()


# --- the last administrator -----------------------------------------------------------------

# Who can repair every account: without an active user holding both, nobody could.
ADMIN_PERMISSIONS = ("users.manage", "roles.manage")


def count_admins() -> int:
    admins = (select(user_roles.c.user_id)
              .join(RolePermission, RolePermission.role_id == user_roles.c.role_id)
              .join(User, User.id == user_roles.c.user_id)
              .where(User.active.is_(True), RolePermission.permission.in_(ADMIN_PERMISSIONS))
              .group_by(user_roles.c.user_id)
              .having(func.count(func.distinct(RolePermission.permission))
                      == len(ADMIN_PERMISSIONS)))
    return db.session.scalar(select(func.count()).select_from(admins.subquery()))


def _keep_an_admin(had_admins: int, field: str) -> None:
    """Refuse (after the flush; the entry point rolls back) a change leaving no admin."""
    if had_admins and not count_admins():
        raise InvalidInput({field: [_("This would leave no active administrator (a user who "
                                      "may manage users and roles). Make someone else an "
                                      "administrator first.")]},
                           _("The last active administrator cannot be removed, deactivated "
                             "or demoted."))


class LoginThrottled(ApiError):
    def __init__(self, seconds: int):
        super().__init__(429, "too_many_requests", _(
            "Too many failed logins. Try again in %(n)d seconds.", n=seconds),
            retry_after=seconds, headers={"Retry-After": str(seconds)})


def log_in(username: str, password: str, address: str | None) -> User | None:
    """The one login check of the form and the API: throttled per username and per address
    (LoginThrottled), counted on failure, cleared for the username on success. The caller
    commits either way, so a failure is counted even though the request is refused."""
    wait = throttle.retry_after(username, address)
    if wait:
        raise LoginThrottled(wait)
    user = authenticate(username, password)
    if user is None:
        throttle.record_failure(username, address)
        return None
    throttle.record_success(username)
    return user


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        # Same cost as a real check, so timing does not reveal which usernames exist.
        User(password_hash="").set_password(password or "x")
        return None
    if not user.active or not user.check_password(password or ""):
        return None
    return user


def set_role_permissions(role: Role, codes: list[str], actor: User | None = None) -> None:
    known = all_permissions()
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput({"permissions": [_("Unknown permission: %(code)s", code=c)
                                            for c in unknown]})
    had_admins = count_admins()
    before = role.permissions
    role.set_permissions(codes)
    db.session.flush()
    after = role.permissions
    if before != after:
        record_audit(actor, "role.permissions_changed", role, {
            "added": sorted(after - before), "removed": sorted(before - after)})
        db.session.flush()
    _keep_an_admin(had_admins, "permissions")


def update_user(user: User, *, full_name=None, department_code=None, role_names=None,
                active=None, locale=None, password=None, actor: User | None = None) -> User:
    """Validate everything first, then apply: a refused edit changes nothing."""
    errors: dict[str, list[str]] = {}
    department = user.department
    if department_code is not None:
        department = department_by_code(department_code) if department_code else None
        if department_code and department is None:
            errors["department"] = [_("Unknown department: %(code)s", code=department_code)]
    roles = user.roles
    if role_names is not None:
        roles = [role_by_name(n) for n in role_names]
        if not role_names or any(r is None for r in roles):
            errors["role"] = [_("Choose one or more existing roles.")]
    if locale is not None and locale not in ("zh", "en"):
        errors["locale"] = [_("Choose Chinese or English.")]
    if password and (problems := validate_password(password)):
        errors["password"] = problems
    if errors:
        raise InvalidInput(errors)
    had_admins = count_admins()
    before = _audited(user)
    user.department = department
    user.roles = roles
    if locale is not None:
        user.locale = locale
    if password:
        user.set_password(password)
    if full_name is not None:
        user.full_name = full_name
    if active is not None:
        user.active = active
    user.__dict__.pop("_permissions", None)
    db.session.flush()
    after = _audited(user)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if password:
        changes["password"] = "changed"
    if changes:
        record_audit(actor, "user.updated", user, changes)
    if password or (before["active"] and not user.active):
        end_all_sessions(user, actor, "password_changed" if password else "deactivated")
    db.session.flush()
    _keep_an_admin(had_admins, "active" if before["active"] and not user.active else "role")
    return user


def _audited(user: User) -> dict:
    return {"full_name": user.full_name, "locale": user.locale, "active": user.active,
            "department": user.department.code if user.department else None,
            "roles": sorted(r.name for r in user.roles)}


_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _check_code(code: str, taken: bool) -> list[str]:
    if not code or len(code) > 40 or not set(code) <= _CODE_CHARS or code[0].isdigit():
        return [_("Use 1–40 lower-case letters, digits or underscores, starting with a "
                  "letter.")]
    if taken:
        return [_("This code is taken.")]
    return []


def create_role(name: str, label: str, label_en: str, permissions: list[str]) -> Role:
    """A new role (data, like the default ones) with its permissions; every error at once."""
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if problems := _check_code(name, role_by_name(name) is not None):
        errors["name"] = problems
    if not (label or "").strip():
        errors["label"] = [_("Give the role a Chinese name.")]
    for field, value in (("label", label), ("label_en", label_en)):
        if len(value or "") > 100:
            errors[field] = [_("At most %(n)d characters.", n=100)]
    known = all_permissions()
    unknown = [c for c in permissions or [] if c not in known]
    if unknown:
        errors["permissions"] = [_("Unknown permission: %(code)s", code=c) for c in unknown]
    if errors:
        raise InvalidInput(errors)
    role = Role(name=name, label=label.strip(), label_en=(label_en or "").strip())
    role.set_permissions(permissions or [])
    db.session.add(role)
    db.session.flush()
    return role


def save_department(department: Department | None, *, code: str, name: str, name_en: str,
                    kind: str, active: bool) -> Department:
    """Create (department None) or edit a department; its code is permanent once made."""
    from ticketing.auth.models import DEPARTMENT_KINDS
    errors: dict[str, list[str]] = {}
    if department is None:
        code = (code or "").strip()
        if problems := _check_code(code, department_by_code(code) is not None):
            errors["code"] = problems
    if not (name or "").strip():
        errors["name"] = [_("Give the department a Chinese name.")]
    for field, value in (("name", name), ("name_en", name_en)):
        if len(value or "") > 100:
            errors[field] = [_("At most %(n)d characters.", n=100)]
    if kind not in DEPARTMENT_KINDS:
        errors["kind"] = [_("Not a valid choice.")]
    if errors:
        raise InvalidInput(errors)
    if department is None:
        department = Department(code=code)
        db.session.add(department)
    department.name, department.name_en = name.strip(), (name_en or "").strip()
    department.kind, department.active = kind, bool(active)
    db.session.flush()
    return department
