"""The framework ceiling: a bare Flask + Flask-SQLAlchemy app whose one endpoint inserts one
row and returns it as JSON, served by gunicorn exactly like the ticketing app.

    DATABASE_URL=... gunicorn -w 2 -b 127.0.0.1:PORT 'bench.ceiling_app:app'"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Row(db.Model):
    __tablename__ = "ceiling_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(db.String(200))
    created_at: Mapped[datetime]


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _pragmas(conn, _record):  # the same settings the ticketing app uses
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()
    with app.app_context():
        try:
            db.create_all()  # bench/run creates it first; two workers may race here
        except Exception:  # noqa: BLE001
            db.session.rollback()

    @app.post("/rows")
    def insert_row():
        data = request.get_json(force=True)
        row = Row(title=str(data.get("title", ""))[:200], created_at=datetime.now(timezone.utc))
        db.session.add(row)
        db.session.commit()
        return jsonify({"id": row.id, "title": row.title}), 201

    return app


app = create_app()
