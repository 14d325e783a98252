"""Stress tests: bounded load against the real stack. The long ones are skipped unless
RUN_SLOW=1 (see each module's docstring for how to run it)."""
import pytest
from werkzeug.security import generate_password_hash


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr("ticketing.auth.models.generate_password_hash",
                        lambda password, method=None: generate_password_hash(
                            password, method="pbkdf2:sha256:1"))
