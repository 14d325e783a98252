"""The home page per role and small shared pages."""
