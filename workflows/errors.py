"""Why the workflow refused an event; every error carries a readable `.message`."""


class WorkflowError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownEvent(WorkflowError):
    def __init__(self, event: str):
        self.event = event
        super().__init__(f"unknown event {event!r}")


class EventNotAllowed(WorkflowError):
    def __init__(self, state: str | None, event: str, allowed):
        self.state = state
        self.event = event
        self.allowed = list(allowed)
        names = ", ".join(self.allowed) or "none"
        super().__init__(f"{event} is not allowed in state {state}; allowed events: {names}")


class GuardRefused(WorkflowError):
    def __init__(self, event: str, messages, guards=()):
        self.event = event
        self.messages = list(messages)
        self.guards = list(guards)  # names of the failing guards, for translated messages
        super().__init__(f"{event} refused: " + "; ".join(self.messages))
