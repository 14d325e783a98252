"""Stress tests: bounded load against the real stack. The long ones are skipped unless
RUN_SLOW=1 (see each module's docstring for how to run it)."""
