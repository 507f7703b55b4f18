"""LocalExecutor: every call runs in this thread, in order; the fastest for small flows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from jupyter_flows.executors.base import Call, EngineHooks, EventHandler, Executor, Ref


class LocalSession:
    portable = False
    log_sink = None  # task runs log in this very process

    def __init__(self, on_event: EventHandler | None) -> None:
        self.sink = on_event
        self.values: dict[str, Any] = {}
        self.current: str | None = None

    def submit(self, calls: Sequence[Call], last: bool = False) -> None:
        values = self.values
        for call in calls:
            args = [values[a.key] if type(a) is Ref else a for a in call.args]
            self.current = call.key
            values[call.key] = call.fn(*args)
        self.current = None

    def gather(self, keys: Sequence[str]) -> list[Any]:
        return [self.values[k] for k in keys]

    # Ctrl-C raises KeyboardInterrupt right in the call that runs: nothing else to stop
    def finished(self) -> dict[str, Any]:
        return dict(self.values)

    def running(self) -> set[str]:
        return {self.current} if self.current is not None else set()

    def interrupt(self, grace: float) -> dict[str, Any]:
        return {}


class LocalExecutor(Executor):
    """Run tasks one after another in the current thread."""

    type: Literal["local"] = "local"

    @contextmanager
    def start(self, hooks: EngineHooks) -> Iterator[LocalSession]:
        yield LocalSession(hooks.on_event)
