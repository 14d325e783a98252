"""Schemas of the dispatch API: each shapes output and documents OpenAPI."""
from marshmallow import Schema, fields, validate

from ticketing.auth.schemas import DepartmentRefSchema, UserRefSchema
from ticketing.dispatch.queries import BOARD_LIMIT, MAX_BOARD_LIMIT


class BoardQuerySchema(Schema):
    limit = fields.Integer(load_default=BOARD_LIMIT,
                           validate=validate.Range(min=1, max=MAX_BOARD_LIMIT),
                           metadata={"description": "at most this many work orders "
                                                    "(unassigned ones first)"})


class WorkOrderDeadlineSchema(Schema):
    clock = fields.String(metadata={"description": "response, resolution or complaint_limit"})
    due_at = fields.DateTime()
    seconds_left = fields.Float(metadata={"description": "negative: overdue"})
    sla = fields.String(attribute="state",
                        metadata={"description": "the SLA colour: ok, warning or breached"})


class WorkOrderSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    version = fields.Integer(metadata={"description": "send it back with the dispatch event"})
    state = fields.String(metadata={"description": "repair_ordered (no team yet), "
                                                   "repair_dispatched or repair_working"})
    priority = fields.String()
    area = fields.String(allow_none=True, metadata={"description": "the customer's area"})
    fault_type = fields.String(allow_none=True)
    fault_type_label = fields.String()
    customer_name = fields.String()
    created_at = fields.DateTime()
    unassigned = fields.Boolean(metadata={"description": "no field team yet"})
    team = fields.Nested(DepartmentRefSchema, allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    deadline = fields.Nested(WorkOrderDeadlineSchema, allow_none=True,
                             metadata={"description": "the nearest running SLA deadline"})


class GroupSchema(Schema):
    area = fields.String(allow_none=True)
    fault_type = fields.String(allow_none=True)
    fault_type_label = fields.String()
    unassigned = fields.Integer()
    serving_team_ids = fields.List(fields.Integer(), metadata={
        "description": "field teams whose areas cover this area"})
    items = fields.List(fields.Nested(WorkOrderSchema))


class TeamSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    areas = fields.List(fields.String())
    members = fields.List(fields.Nested(UserRefSchema))


class BoardSchema(Schema):
    groups = fields.List(fields.Nested(GroupSchema))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "open work orders per state (all of them, not only those shown)"})
    total = fields.Integer()
    shown = fields.Integer()
    truncated = fields.Boolean()
    teams = fields.List(fields.Nested(TeamSchema))


class QueueTicketSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    version = fields.Integer()
    state = fields.String()
    priority = fields.String()
    fault_type = fields.String(allow_none=True)
    created_at = fields.DateTime()


class QueueItemSchema(Schema):
    ticket = fields.Nested(QueueTicketSchema)
    area = fields.String(allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    deadline = fields.Nested(WorkOrderDeadlineSchema, allow_none=True)
    events = fields.List(fields.String(), metadata={
        "description": "workflow events you may fire now (POST /tickets/<id>/transitions)"})


class QueueSchema(Schema):
    team = fields.Nested(DepartmentRefSchema, allow_none=True)
    items = fields.List(fields.Nested(QueueItemSchema))


# -- the board's fast path ------------------------------------------------------------------
# A full board is hundreds of nested objects: marshmallow spends longer shaping them than the
# database spends finding them. board_json writes the very shape BoardSchema documents
# (tests/dispatch compare the two on a board with every kind of row).

def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _department(d) -> dict | None:
    return None if d is None else {"id": d.id, "code": d.code, "name": d.name}


def _user(u) -> dict | None:
    return None if u is None else {"id": u.id, "username": u.username,
                                   "full_name": u.full_name}


def _deadline(d) -> dict | None:
    return None if d is None else {"clock": d.clock, "due_at": _iso(d.due_at),
                                   "seconds_left": float(d.seconds_left), "sla": d.state}


def board_json(board) -> dict:
    return {
        "groups": [{
            "area": g.area, "fault_type": g.fault_type, "fault_type_label": g.fault_type_label,
            "unassigned": g.unassigned, "serving_team_ids": list(g.serving_team_ids),
            "items": [{
                "id": o.id, "number": o.number, "version": o.version, "state": o.state,
                "priority": o.priority, "area": o.area, "fault_type": o.fault_type,
                "fault_type_label": o.fault_type_label, "customer_name": o.customer_name,
                "created_at": _iso(o.created_at), "unassigned": o.unassigned,
                "team": _department(o.team), "assignee": _user(o.assignee),
                "deadline": _deadline(o.deadline)} for o in g.items]}
            for g in board.groups],
        "counts": dict(board.counts), "total": board.total, "shown": board.shown,
        "truncated": board.truncated,
        "teams": [{"id": t.id, "code": t.code, "name": t.name, "areas": list(t.areas),
                   "members": [_user(m) for m in t.members]} for t in board.teams],
    }
