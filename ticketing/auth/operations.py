"""Account operations: they flush, never commit; the caller (request, CLI) commits."""
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ticketing.auth.models import ApiToken, Department, Role, User
from ticketing.auth.permissions import DEFAULT_ROLES, all_permissions, default_permissions
from ticketing.clock import utcnow
from ticketing.errors import InvalidInput
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
                locale: str = "zh") -> User:
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
    return user


def issue_token(user: User, name: str = "", days: int = 365) -> str:
    """Returns the token once; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=ApiToken.hash(token), name=name,
                            expires_at=utcnow() + timedelta(days=days)))
    db.session.flush()
    return token


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        # Same cost as a real check, so timing does not reveal which usernames exist.
        User(password_hash="").set_password(password or "x")
        return None
    if not user.active or not user.check_password(password or ""):
        return None
    return user


def set_role_permissions(role: Role, codes: list[str]) -> None:
    known = all_permissions()
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput({"permissions": [_("Unknown permission: %(code)s", code=c)
                                            for c in unknown]})
    role.set_permissions(codes)
    db.session.flush()


def update_user(user: User, *, full_name=None, department_code=None, role_names=None,
                active=None, locale=None, password=None) -> User:
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
    return user
