"""Fixtures for the security suite: cheap password hashing (these tests log in many times)."""
import pytest
from werkzeug.security import generate_password_hash


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """scrypt costs ~0.2 s per hash; these tests are about access, not password storage."""
    monkeypatch.setattr("ticketing.auth.models.generate_password_hash",
                        lambda password, method=None: generate_password_hash(
                            password, method="pbkdf2:sha256:1"))
