from flask import Blueprint, current_app, render_template
from flask_login import current_user

from ticketing.auth.permissions import permission_required
from ticketing.extensions import db
from ticketing.wiring import wiring

bp = Blueprint("main", __name__)

@bp.route("/")
@permission_required()
def home():
    panels = [p for p in (fn(current_user) for fn in wiring().home_panels) if p]
    # What needs a decision now (breaches, approvals) comes before the routine lists.
    panels.sort(key=lambda panel: panel.get("order", 50))
    return render_template("main/home.html", panels=panels)


@bp.route("/healthz")
def health():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok", "database": db.engine.dialect.name,
            "version": current_app.config.get("VERSION", "0.1.0")}
