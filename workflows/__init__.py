"""Workflows as data, free of Flask, SQLAlchemy and `ticketing` (a test proves it)."""
