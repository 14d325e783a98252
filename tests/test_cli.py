"""The `ticketing` command: init, create-user, seed-demo, import-customers, --help."""
import re

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ticketing.auth.models import User
from ticketing.customers.models import Customer, CustomerChange, CustomerPhone
from ticketing.extensions import db

import pytest

PASSWORD = "correct-horse-9"


@pytest.fixture
def app_config():
    # A cheap scrypt cost: seed-demo alone hashes nine passwords; the algorithm is the same.
    return {"PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}


@pytest.fixture(autouse=True)
def english_operator(monkeypatch):
    """Messages follow the operator's LANG; these tests read them in English."""
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")


def _count(app, column) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(column)))


def _user(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).options(selectinload(User.roles))
                                 .where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def _create_user(runner, *args):
    return runner.invoke(args=["create-user", *args])


# --- create-user --------------------------------------------------------------------------

def test_create_user_makes_an_account_that_can_log_in(app, runner, auth):
    result = _create_user(runner, "wang", "--role", "dispatcher", "--password", PASSWORD,
                          "--department", "dispatch", "--full-name", "王建国")
    assert result.exit_code == 0, result.output
    assert "Created user wang (dispatcher)" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "wang"))
        assert [r.name for r in user.roles] == ["dispatcher"]
        assert user.department.code == "dispatch" and user.full_name == "王建国"
    assert auth.login("wang").status_code == 302


def test_create_user_with_several_roles(app, runner):
    result = _create_user(runner, "multi", "--role", "staff", "--role", "supervisor",
                          "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "multi"))
        assert sorted(r.name for r in user.roles) == ["staff", "supervisor"]


def test_create_user_with_an_unknown_role_exits_2_and_creates_nobody(app, runner):
    before = _count(app, User.id)
    result = _create_user(runner, "ghost", "--role", "wizard", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "role: Unknown role: wizard" in result.stderr
    assert _user(app, "ghost") is None and _count(app, User.id) == before


def test_create_user_with_an_unknown_department_exits_2_and_creates_nobody(app, runner):
    result = _create_user(runner, "ghost", "--role", "agent", "--password", PASSWORD,
                          "--department", "atlantis")
    assert result.exit_code == 2
    assert "department: Unknown department: atlantis" in result.stderr
    assert _user(app, "ghost") is None


def test_create_user_speaks_chinese_to_a_chinese_operator(app, runner, monkeypatch):
    from flask_babel import force_locale, gettext
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    result = _create_user(runner, "ghost", "--role", "wizard", "--password", PASSWORD)
    assert result.exit_code == 2
    with app.test_request_context(), force_locale("zh"):
        expected = gettext("Unknown role: %(name)s", name="wizard")
    assert f"role: {expected}" in result.stderr


def test_create_user_refuses_a_taken_username(app, runner, make_user):
    make_user("agent", username="taken")
    result = _create_user(runner, "taken", "--role", "admin", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "username: This username is taken." in result.stderr
    user = _user(app, "taken")
    assert [r.name for r in user.roles] == ["agent"], "the existing account is untouched"


def test_create_user_refuses_a_short_password(app, runner):
    result = _create_user(runner, "shorty", "--role", "agent", "--password", "short")
    assert result.exit_code == 2
    assert "password: A password needs at least 8 characters." in result.stderr
    assert _user(app, "shorty") is None


def test_create_user_without_a_role_is_a_usage_error(app, runner):
    result = _create_user(runner, "norole", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "--role" in result.output
    assert _user(app, "norole") is None


def test_create_user_prompts_for_the_password_twice(app, runner):
    result = runner.invoke(args=["create-user", "prompted", "--role", "agent"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "prompted"))
        assert user.check_password(PASSWORD)
    assert PASSWORD not in result.output


# --- init and seed-demo -------------------------------------------------------------------

def test_init_on_a_migrated_database_is_harmless(app, runner, make_user):
    make_user("agent", username="keeper")
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert _user(app, "keeper") is not None


def test_seed_demo_creates_one_user_per_role_and_chinese_customers_once(app, runner, auth):
    from ticketing.auth.permissions import DEFAULT_ROLES
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        users = db.session.scalars(select(User)).all()
        seeded_roles = {r.name for u in users for r in u.roles}
        assert seeded_roles >= set(DEFAULT_ROLES), "at least one user per default role"
        customers = db.session.scalars(select(Customer)).all()
        assert len(customers) >= 300
        assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", c.name) for c in customers)
        assert len({c.account_no for c in customers}) == len(customers)
        assert all(c.phones for c in customers)
        counts = (len(users), len(customers), db.session.scalar(
            select(func.count(CustomerPhone.id))))
    assert auth.login("admin", "demo-pass-2026").status_code == 302

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert counts == (db.session.scalar(select(func.count(User.id))),
                          db.session.scalar(select(func.count(Customer.id))),
                          db.session.scalar(select(func.count(CustomerPhone.id))))
    assert "user " not in again.output and "customers " not in again.output


# --- import-customers ---------------------------------------------------------------------

CSV = """account_no,name,address,area,tier,phones,notes
KH900001,王芳,北京市朝阳区建国路1号,朝阳区,ordinary,138-0013 8000;010 6512 3456,
KH900002,李强,北京市海淀区学院路2号,海淀区,vip,13900139000,大客户

KH900003,,北京市东城区,东城区,ordinary,13700137000,no name
KH900004,赵敏,北京市西城区,西城区,gold,13600136000,
KH900005,钱伟,北京市丰台区,丰台区,ordinary,not-a-phone,
"""


def test_import_customers_creates_good_rows_and_reports_bad_ones_by_line(app, runner,
                                                                          tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(args=["import-customers", str(path)])
    assert result.exit_code == 1, "any rejected row makes the exit code 1"
    assert "created 2, updated 0, rejected 3" in result.stdout
    # Line numbers are the file's own (line 4 is blank), so a clerk can find the row.
    assert re.search(r"^line 5: name: ", result.stderr, re.M)
    assert re.search(r"^line 6: tier: ", result.stderr, re.M)
    assert re.search(r"^line 7: phones: .*not-a-phone", result.stderr, re.M)
    with app.app_context():
        rows = {c.account_no: c for c in db.session.scalars(select(Customer))}
        assert set(rows) == {"KH900001", "KH900002"}
        assert rows["KH900001"].phone_numbers == ["13800138000", "01065123456"]
        assert rows["KH900002"].tier == "vip"
        assert db.session.scalar(select(func.count(CustomerChange.id))) == 2


def test_import_customers_of_a_clean_file_exits_0_and_updates_known_accounts(
        app, runner, tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text("account_no,name,phones\nKH1,王芳,13800138000\n", encoding="utf-8")
    assert runner.invoke(args=["import-customers", str(path)]).exit_code == 0
    path.write_text("account_no,name,phones\nKH1,王芳芳,13800138000\n", encoding="utf-8")
    result = runner.invoke(args=["import-customers", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 0, updated 1, rejected 0" in result.stdout
    with app.app_context():
        assert db.session.scalar(select(Customer.name)) == "王芳芳"


def test_import_customers_reads_a_utf8_file_with_a_byte_order_mark(app, runner, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("account_no,name\nKH2,张伟\n".encode("utf-8-sig"))
    result = runner.invoke(args=["import-customers", str(path)])
    assert result.exit_code == 0, result.output
    assert _count(app, Customer.id) == 1


# --- the command group --------------------------------------------------------------------

def test_ticketing_help_lists_every_command_with_its_help(tmp_path, monkeypatch):
    from ticketing.console import TicketingGroup
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'help.sqlite3'}")
    group = TicketingGroup(help="Contact-center ticketing and workflow engine.")
    result = CliRunner().invoke(group, ["--help"], prog_name="ticketing")
    assert result.exit_code == 0, result.output
    assert "Usage: ticketing" in result.output
    expected = {
        "init": "Create or upgrade the database",
        "create-user": "Create a user with one or more roles",
        "seed-demo": "Migrate, then add demo departments",
        "run": "Serve the web UI and API",
        "import-customers": "Import customers from CSV",
    }
    for command, summary in expected.items():
        assert re.search(rf"^\s+{re.escape(command)}\s+{re.escape(summary)}", result.output,
                         re.M), f"{command} is listed with its help"
    for line in re.findall(r"^  (\S+)(.*)$", result.output.split("Commands:")[1], re.M):
        assert line[1].strip(), f"command {line[0]} has no help text"


def test_create_user_help_explains_every_option(runner):
    result = runner.invoke(args=["create-user", "--help"])
    assert result.exit_code == 0
    for option in ("--role", "--password", "--department", "--full-name", "--locale"):
        assert option in result.output
    assert "agent" in result.output and "department_head" in result.output
