"""Departments kept per process (ticketing.kept): every new ticket and every transfer to a
department by code reads one, and a code is permanent once made."""
from sqlalchemy import func, select

from ticketing.auth.models import Department
from ticketing.dbsetup import as_loaded
from ticketing.extensions import db
from ticketing.kept import keep, kept


def department_id_of(code: str) -> int | None:
    """The id of the department with this code, from the copy kept per process (every new
    ticket and every transfer to a department by code asks)."""
    return kept("departments")[0].get(code)


def kept_department(department_id: int) -> Department | None:
    """The department as an object of this session, made from the kept copy without a
    query, or the one the session already holds."""
    values = kept("departments")[1].get(department_id)
    return as_loaded(Department, values) if values is not None else None


_DEPARTMENT_COLUMNS = ("id", "code", "name", "name_en", "kind", "active", "revision")


def _departments() -> tuple[dict[str, int], dict[int, dict]]:
    rows = [row._asdict() for row in db.session.execute(
        select(*(getattr(Department, name) for name in _DEPARTMENT_COLUMNS)))]
    return {row["code"]: row["id"] for row in rows}, {row["id"]: row for row in rows}


# Departments are never deleted: a new one moves the count and the newest id, an edit the
# sum of revisions.
keep("departments", load=_departments,
     aggregates=(func.count(Department.id), func.max(Department.id),
                 func.sum(Department.revision)),
     watch=(Department,), count_edits=(Department,))
