"""Field teams: which departments are field teams, their members, the areas they serve.
Operations flush, never commit."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ticketing.auth.models import Department, User
from ticketing.dispatch.models import TeamArea
from ticketing.errors import InvalidInput
from ticketing.extensions import db
from workflows.tickets import FIELD_TEAM_KINDS

AREA_LIMIT, MAX_AREAS = 100, 200


def field_teams(active_only: bool = True) -> list[Department]:
    query = select(Department).where(Department.kind.in_(FIELD_TEAM_KINDS)) \
        .order_by(Department.id)
    if active_only:
        query = query.where(Department.active.is_(True))
    return list(db.session.scalars(query))


def is_field_team(department: Department | None) -> bool:
    return department is not None and department.kind in FIELD_TEAM_KINDS


def members_of(team_ids) -> dict[int, list[User]]:
    """{team id: its active members, by name}."""
    ids = list(team_ids)
    found: dict[int, list[User]] = {i: [] for i in ids}
    if ids:
        for user in db.session.scalars(select(User).where(
                User.department_id.in_(ids), User.active.is_(True))
                .order_by(User.full_name, User.username)):
            found[user.department_id].append(user)
    return found


def areas_of(team_ids) -> dict[int, list[str]]:
    ids = list(team_ids)
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for team_id, area in db.session.execute(select(TeamArea.department_id, TeamArea.area)
                                                .where(TeamArea.department_id.in_(ids))
                                                .order_by(TeamArea.area)):
            found[team_id].append(area)
    return found


def teams_serving(area: str | None, team_areas: dict[int, list[str]]) -> list[int]:
    """Teams whose areas cover `area`: the same area, or a prefix of it (a district serves
    its streets: 东城区 covers 东城区和平里街道)."""
    if not area:
        return []
    return [team for team, areas in team_areas.items()
            if any(area == a or area.startswith(a) for a in areas)]


def parse_areas(text: str) -> list[str]:
    parts = (text or "").replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def set_team_areas(team: Department, areas: list[str]) -> list[str]:
    """Replace the areas a field team serves."""
    if not is_field_team(team):
        raise InvalidInput({"areas": [_("Only a field team serves areas.")]})
    clean = list(dict.fromkeys(str(a).strip() for a in areas if str(a).strip()))
    if len(clean) > MAX_AREAS or any(len(a) > AREA_LIMIT for a in clean):
        raise InvalidInput({"areas": [_("At most %(n)d areas of %(m)d characters each.",
                                        n=MAX_AREAS, m=AREA_LIMIT)]})
    db.session.execute(delete(TeamArea).where(TeamArea.department_id == team.id))
    db.session.add_all(TeamArea(department_id=team.id, area=a) for a in clean)
    db.session.flush()
    return clean


DEMO_AREAS = {"repair_team_1": ["东城区", "西城区", "朝阳区"],
              "repair_team_2": ["海淀区", "丰台区", "通州区"]}


def seed_demo_team_areas() -> list[str]:
    """The demo's two field teams split the demo customers' districts (once)."""
    if db.session.scalar(select(TeamArea.id).limit(1)) is not None:
        return []
    teams = {d.code: d for d in field_teams()}
    done = 0
    for code, areas in DEMO_AREAS.items():
        if code in teams:
            set_team_areas(teams[code], areas)
            done += 1
    return [f"field team areas for {done} teams"] if done else []
