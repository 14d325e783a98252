"""`ticketing scheduler` as the tests run it in a child process: the production command, with
the two things only a test needs set from the environment before it starts:

- TICKETING_FROZEN_NOW (ISO time): the scheduler's clock stands still at that time;
- TICKETING_TEST_SWEEP_DELAY (seconds): a pause after each fired timer group, so a test can
  stop or kill the process in the middle of a batch.
"""
import functools
import os
import sys
import time
from datetime import datetime, timezone

from ticketing import clock
from ticketing.console import main
from ticketing.timers import scheduler

if __name__ == "__main__":
    frozen = os.environ.get("TICKETING_FROZEN_NOW")
    if frozen:
        at = datetime.fromisoformat(frozen)
        clock.freeze(at if at.tzinfo else at.replace(tzinfo=timezone.utc))
    delay = float(os.environ.get("TICKETING_TEST_SWEEP_DELAY") or 0)
    if delay > 0:
        scheduler.sweep_due_timers = functools.partial(
            scheduler.sweep_due_timers, after_each=lambda _timer: time.sleep(delay))
    sys.argv[0] = "ticketing"
    main()
