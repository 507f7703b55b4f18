"""How a flow-run process learns that its run was cancelled, and stops the engine.

A cancel moves the run to ``Cancelling`` in the backend. This process follows the run's
events stream in a background thread, so it learns within the time an event takes to
arrive (well under a second); the lease heartbeat's answer, which carries the run's state,
is the fallback when the stream is down. Either calls :meth:`CancelWatch.request`.

Stopping reuses the engine's interrupt path (the one Ctrl-C takes): a KeyboardInterrupt in
the thread driving ``run_flow``. In the main thread that is a real SIGINT sent to it, so a
driver waiting in a blocking call wakes at once; the flow runner then stops what runs,
submits nothing more, marks every unfinished task run Cancelled and returns a Cancelled
flow state. The interrupt is only delivered while the engine runs (between
:meth:`CancelWatch.engine` entering and leaving): a cancel that arrives before is seen by
the caller through :attr:`CancelWatch.requested`, one that arrives after is moot.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_flows.client.client import Client

_log = logging.getLogger("jupyter_flows.flow_run.cancel")


class CancelWatch:
    """Watches one run for a cancel request and interrupts the engine driving it.

    - ``requested`` is set once a cancel was seen; ``how`` says where from.
    - ``follow()`` starts the events-stream thread; ``request()`` is also what the
      heartbeat calls when its answer says ``Cancelling``.
    - ``engine()`` wraps the ``run_flow`` call: only inside it is the driver interrupted.
    """

    def __init__(self, client: Client, flow_run_id: str) -> None:
        self.client = client
        self.flow_run_id = flow_run_id
        self.requested = threading.Event()
        self.how: str | None = None
        self._lock = threading.Lock()
        self._driver: int | None = None  # the thread running the engine, while it runs
        self._interrupted = False
        self._thread = threading.Thread(target=self._follow, name="jupyter-flows-cancel-watch",
                                        daemon=True)

    def follow(self) -> CancelWatch:
        self._thread.start()
        return self

    def request(self, how: str) -> None:
        """A cancel was seen (``how``: ``events stream`` or ``heartbeat``)."""
        with self._lock:
            if self.requested.is_set():
                return
            self.how = how
            self.requested.set()
            _log.warning("flow run %s: cancel requested (seen through the %s); stopping its "
                         "task runs", self.flow_run_id, how)
            self._interrupt_locked()

    @contextlib.contextmanager
    def engine(self) -> Iterator[None]:
        """Run the engine inside: a cancel (already requested or arriving) interrupts it."""
        main = threading.current_thread() is threading.main_thread()
        previous: Any = None
        if main:
            # our own handler, so that a SIGINT that arrives just after the engine returned
            # is ignored instead of raising in the code that reports the final state
            previous = signal.signal(signal.SIGINT, self._on_sigint)
        with self._lock:
            self._driver = threading.get_ident()
            if self.requested.is_set():
                self._interrupt_locked()
        try:
            yield
        finally:
            with self._lock:
                self._driver = None
            if main:
                signal.signal(signal.SIGINT, previous)

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._driver is not None:
            raise KeyboardInterrupt

    def _interrupt_locked(self) -> None:
        if self._driver is None or self._interrupted:
            return
        self._interrupted = True
        if self._driver == threading.main_thread().ident:
            # a real signal wakes a driver blocked in a wait (a plain flag would not)
            signal.pthread_kill(self._driver, signal.SIGINT)
        else:  # the engine runs in another thread (an in-process caller)
            from jupyter_flows.executors.interrupts import raise_in_thread

            raise_in_thread(self._driver, KeyboardInterrupt)

    def _follow(self) -> None:
        try:
            for event in self.client.follow_run(self.flow_run_id):
                if event.kind == "flow_run_state" and event.state == "Cancelling":
                    self.request("events stream")
                    return
        except Exception as exc:  # the heartbeat still carries the cancel
            _log.warning("flow run %s: stopped following its events (%s); a cancel now "
                         "arrives with the next heartbeat", self.flow_run_id, exc)
