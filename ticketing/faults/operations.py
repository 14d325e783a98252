"""Fault category operations: flush, never commit."""
import re

from flask_babel import gettext as _
from sqlalchemy import select

from ticketing.errors import InvalidInput
from ticketing.extensions import db
from ticketing.faults.models import FaultCategory

# (code, 中文, English, mass fault): SPEC §4's incident categories, then common repair faults.
DEFAULT_CATEGORIES = [
    ("fibre_cable", "光缆", "Fibre cable", True),
    ("cable", "电缆", "Cable", True),
    ("equipment", "设备", "Equipment", True),
    ("machine_room", "机房", "Machine room", True),
    ("power_cut", "停电", "Power cut", True),
    ("no_signal", "无信号", "No signal", False),
    ("set_top_box", "机顶盒故障", "Set-top box fault", False),
    ("modem", "光猫故障", "Optical modem fault", False),
    ("broadband_drop", "宽带掉线", "Broadband drops", False),
    ("slow_network", "网速慢", "Slow connection", False),
    ("home_wiring", "入户线路", "Home wiring", False),
    ("meter", "表计故障", "Meter fault", False),
    ("other", "其他", "Other", False),
]
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def ensure_default_categories() -> None:
    """Add the default categories that are missing (idempotent; never overwrites)."""
    have = set(db.session.scalars(select(FaultCategory.code)))
    for order, (code, name, name_en, mass) in enumerate(DEFAULT_CATEGORIES):
        if code not in have:
            db.session.add(FaultCategory(code=code, name=name, name_en=name_en,
                                         mass_fault=mass, sort_order=(order + 1) * 10))
    db.session.flush()


def active_categories() -> list[FaultCategory]:
    return list(db.session.scalars(select(FaultCategory).where(FaultCategory.active.is_(True))
                                   .order_by(FaultCategory.sort_order, FaultCategory.id)))


def category_names() -> dict[str, FaultCategory]:
    """code -> category, every one (inactive ones still name old tickets' faults)."""
    return {c.code: c for c in db.session.scalars(select(FaultCategory))}


def save_category(category: FaultCategory | None, *, code: str, name: str, name_en: str,
                  active: bool, mass_fault: bool, sort_order: int | None) -> FaultCategory:
    """Create (category None) or edit; every error at once; a code is permanent."""
    errors: dict[str, list[str]] = {}
    if category is None:
        code = (code or "").strip()
        if not _CODE.match(code):
            errors["code"] = [_("Use 1–40 lower-case letters, digits or underscores, starting "
                                "with a letter.")]
        elif db.session.scalar(select(FaultCategory.id).where(FaultCategory.code == code)):
            errors["code"] = [_("This code is taken.")]
    if not (name or "").strip():
        errors["name"] = [_("Give the category a Chinese name.")]
    for field, value in (("name", name), ("name_en", name_en)):
        if len(value or "") > 100:
            errors[field] = [_("At most %(n)d characters.", n=100)]
    if errors:
        raise InvalidInput(errors)
    if category is None:
        category = FaultCategory(code=code)
        db.session.add(category)
    category.name, category.name_en = name.strip(), (name_en or "").strip()
    category.active, category.mass_fault = bool(active), bool(mass_fault)
    if sort_order is not None:
        category.sort_order = sort_order
    db.session.flush()
    return category
