"""One shared HierarchicalMachine for the ticket workflow, fired on snapshots behind a lock.

The machine never sees the caller's object: each firing runs on a snapshot of the attributes
guards may read, and only a successful firing copies `state` and `suspended_from` back. So a
refusal changes nothing, asking which events are available is a dry run, and no ORM row is
ever added to the machine.
"""

import copy
import importlib
import threading
from types import SimpleNamespace

from transitions.core import EventData
from transitions.extensions.nesting import HierarchicalMachine

from workflows import tickets
from workflows.errors import EventNotAllowed, GuardRefused, UnknownEvent


def _listify(value) -> list:
    return value if isinstance(value, list) else [value]


class TicketWorkflow:
    def __init__(self):
        self.machine = HierarchicalMachine(
            model=None,
            states=tickets.STATES,
            transitions=tickets.TRANSITIONS,
            initial=None,
            auto_transitions=False,
            send_event=True,
        )
        # The machine re-scopes itself while it works, so only one thread may use it at a time.
        self._lock = threading.Lock()
        self._allowed = {leaf: self._triggers_from(leaf) for leaf in tickets.LEAVES}
        # Events whose guards read only what was typed: their outcome depends on the state
        # alone (and suspended_from, which the state's own callbacks read and write).
        self._fields_only = {
            name: all(self._guard(path).reads_fields
                      for t in tickets.TRANSITIONS if t["trigger"] == name
                      for path in t["conditions"])
            for name in tickets.EVENTS}
        self._check_definition()

    def allowed_events(self, state: str | None) -> list[str]:
        """Events with a transition from `state`, in EVENTS order; guards are not evaluated."""
        return list(self._allowed.get(state, ()))

    def fire(self, subject, event: str, /, **fields) -> str:
        """Fire `event` on `subject`, set its state (and suspended_from) and return the new leaf.

        Raises UnknownEvent, EventNotAllowed (not from this state) or GuardRefused (a rule says
        no); on any of them `subject` is unchanged.
        """
        outcome = self.outcome(subject, event, **fields)
        self.apply(subject, outcome)
        return outcome.state

    def outcome(self, subject, event: str, /, **fields) -> SimpleNamespace:
        """What firing `event` would make of `subject`, without touching it (a dry run on a
        snapshot); raises like fire(). Give it to apply() to make it so."""
        snapshot = self._snapshot(subject)
        self._run(snapshot, event, fields)
        return snapshot

    def outcomes(self, subjects, event: str, /, **fields) -> list[SimpleNamespace]:
        """outcome() of each subject; when the event's guards read only the fields, one dry
        run serves every subject in the same state (a batch of a thousand: a few runs)."""
        if not self._fields_only.get(event):
            return [self.outcome(subject, event, **fields) for subject in subjects]
        runs: dict[tuple, SimpleNamespace] = {}
        found = []
        for subject in subjects:
            key = tuple(getattr(subject, name, None) for name in tickets.WRITTEN_ATTRIBUTES)
            if key not in runs:
                runs[key] = self.outcome(subject, event, **fields)
            found.append(runs[key])
        return found

    @staticmethod
    def _guard(path: str):
        module, _dot, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)

    @staticmethod
    def apply(subject, outcome: SimpleNamespace) -> None:
        for name in tickets.WRITTEN_ATTRIBUTES:
            value = getattr(outcome, name)
            if value != getattr(subject, name, None):
                setattr(subject, name, value)

    def unavailable_events(self, subject) -> dict[str, tuple[list[str], list[str]]]:
        """Events the state allows but the ticket itself rules out now, with why: event ->
        (messages, guard names). Guards that read the user's fields are not asked (nothing is
        typed yet), so an event missing here may still be refused for what was typed."""
        snapshot = self._snapshot(subject)
        found = {}
        with self._lock:
            for event in self.allowed_events(snapshot.state):
                failures = self._failing(snapshot, event, {}, ticket_only=True)
                if failures is not None:
                    found[event] = failures
        return found

    def describe(self) -> dict:
        """The workflow as JSON-ready data, for GET /api/v1/workflows and for UIs."""
        return {
            "states": [
                {"name": s["name"], "children": [{"name": c} for c in s.get("children", [])]}
                for s in tickets.STATES
            ],
            "leaves": list(tickets.LEAVES),
            "initial": dict(tickets.INITIAL_STATE),
            "display_status": dict(tickets.DISPLAY_STATUS),
            "events": [
                {"name": name, **copy.deepcopy(meta), "transitions": self._edges(name)}
                for name, meta in tickets.EVENTS.items()
            ],
        }

    def _run(self, snapshot, event: str, fields: dict) -> None:
        if event not in tickets.EVENTS:
            raise UnknownEvent(event)
        allowed = self.allowed_events(snapshot.state)
        if event not in allowed:
            raise EventNotAllowed(snapshot.state, event, allowed)
        with self._lock:
            if not self.machine.trigger_event(snapshot, event, **fields):
                raise GuardRefused(event, *self._refusals(snapshot, event, fields))

    @staticmethod
    def _snapshot(subject) -> SimpleNamespace:
        # A missing attribute reads as None, like an empty column.
        attributes = {name: getattr(subject, name, None) for name in tickets.MODEL_ATTRIBUTES}
        return SimpleNamespace(**attributes)

    def _refusals(self, snapshot, event: str, fields: dict) -> tuple[list[str], list[str]]:
        """Messages of every failing guard on the candidate transition with the fewest failures.

        The machine stops at the first failing guard and only returns False, so we ask again.
        """
        return self._failing(snapshot, event, fields) or (
            [f"the conditions for {event} are not met"], [])

    def _failing(self, snapshot, event: str, fields: dict, ticket_only: bool = False):
        """(messages, guard names) of the candidate transition with the fewest failing
        guards, or None when one candidate passes them all."""
        trigger, resolve = self.machine.events[event], self.machine.resolve_callable
        candidates = []
        for transition in trigger.transitions[snapshot.state]:
            data = EventData(None, trigger, self.machine, snapshot, args=(), kwargs=fields)
            data.transition = transition
            failed = [c.func for c in transition.conditions
                      if not (ticket_only and resolve(c.func, data).reads_fields)
                      and not c.check(data)]
            if not failed:
                return None
            candidates.append([(path, resolve(path, data).refusal(data)) for path in failed])
        chosen = min(candidates, key=len)
        messages = [message for _path, message in chosen if message]
        guards = [path.rpartition(".")[2] for path, _message in chosen]
        return (list(dict.fromkeys(messages)) or [f"the conditions for {event} are not met"],
                guards)

    def _triggers_from(self, leaf: str) -> list[str]:
        triggers = set(self.machine.get_triggers(leaf))
        return [name for name in tickets.EVENTS if name in triggers]

    @staticmethod
    def _edges(event: str) -> list[dict]:
        return [
            # An internal transition (dest None) stays where it is.
            {"source": source, "dest": transition["dest"] or source}
            for transition in tickets.TRANSITIONS
            if transition["trigger"] == event
            for source in _listify(transition["source"])
        ]

    def _check_definition(self) -> None:
        """Fail at import, not on the first request, if the data and the machine disagree."""
        if set(self.machine.events) != set(tickets.EVENTS):
            raise ValueError(f"machine events {sorted(self.machine.events)} differ from EVENTS")
        probe = EventData(None, None, self.machine, SimpleNamespace(), args=(), kwargs={})
        for transition in tickets.TRANSITIONS:
            for path in transition["conditions"]:
                if not hasattr(self.machine.resolve_callable(path, probe), "refusal"):
                    raise ValueError(f"guard {path} has no refusal message (use @guard)")
            for path in transition.get("before", []):
                self.machine.resolve_callable(path, probe)


ticket_workflow = TicketWorkflow()
