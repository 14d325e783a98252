"""Accounts: departments, users, roles with permissions as data, API tokens, login."""
