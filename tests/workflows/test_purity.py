"""workflows/ must import no Flask, SQLAlchemy or `ticketing` (STYLE.md, house habit 9)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"flask", "sqlalchemy", "ticketing"}


def _modules() -> list[str]:
    # Every module in the package, so business_time.py (and any later one) is checked if present.
    paths = (ROOT / "workflows").glob("*.py")
    return sorted(f"workflows.{path.stem}" for path in paths if path.stem != "__init__")


def test_workflow_modules_are_found():
    assert {"workflows.tickets", "workflows.machine", "workflows.errors"} <= set(_modules())


def test_workflows_import_no_flask_sqlalchemy_or_ticketing():
    code = (
        f"import sys, {', '.join(_modules())}\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "assert not bad, bad\n"
    )
    # A fresh interpreter: this test process may already have Flask loaded by other tests.
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
