"""schemathesis against /api/v1/openapi.json on the WSGI app (no network), as an admin with a
bearer token: no 5xx, and every response conforms to the schema. Bounded: a few examples per
operation and no per-example deadline."""
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, settings  # noqa: E402

PASSWORD = "correct-horse-9"

@pytest.fixture
def admin_headers(app, as_role):
    from ticketing.customers.operations import create_customer
    from ticketing.extensions import db
    from ticketing.tickets.operations import open_ticket
    _user, headers = as_role("admin", "management")
    with app.app_context():
        create_customer(None, {"account_no": "KH1", "name": "王芳", "phones": ["13800138000"]})
        open_ticket(None, kind="consult", caller_phone="13800138000", description="模糊测试")
        db.session.commit()
    return headers


def _checks():
    from schemathesis import checks
    # What the brief asks: no server error, documented status codes, content types, headers
    # and bodies. Not positive_data_acceptance: the schema cannot say which strings are phone
    # numbers, so a schema-valid "phone" may still be a 400 by design.
    return [checks.not_a_server_error, checks.status_code_conformance,
            checks.content_type_conformance, checks.response_headers_conformance,
            checks.response_schema_conformance]


CHECKS = _checks()


def test_the_api_conforms_to_its_schema_and_never_fails(app, admin_headers):
    # Driven by hand rather than through schemathesis' pytest plugin (which fails to collect
    # under this pytest); failures are collected per operation, not shrunk, to stay bounded.
    from hypothesis import given
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
        def run(case):
            try:
                case.call_and_validate(headers=admin_headers, checks=CHECKS)
            except Exception as exc:  # noqa: BLE001 - every failure is reported below
                failures.setdefault(operation.label, f"{type(exc).__name__}: {exc}"[:2000])

        run()
    assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
