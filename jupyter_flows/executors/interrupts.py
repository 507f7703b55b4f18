"""Stopping task runs in worker threads when a flow run is interrupted (Ctrl-C).

SIGINT raises KeyboardInterrupt in the driver's main thread only. Task runs on a thread
pool are stopped by raising :class:`TaskInterrupted` in their threads
(``PyThreadState_SetAsyncExc``): Python code stops at its next bytecode, so a task in a
Python loop ends within milliseconds. A thread inside one long C call (``time.sleep(60)``,
a C extension, blocking I/O) only sees it when that call returns: such a run is reported
``Cancelled`` with a message saying its thread is still busy, and its result is discarded.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import Any

NOT_RUN = "not run: the flow run was interrupted"
INTERRUPTED = "interrupted while running (KeyboardInterrupt)"


class TaskInterrupted(KeyboardInterrupt):
    """Raised in a worker thread running a task when the flow run is interrupted."""


STILL_BUSY = ("interrupted, but its thread was inside a C call (time.sleep, a C extension,"
              " blocking I/O) that Python cannot stop: the thread stops when that call"
              " returns, and its result is discarded")


def raise_in_thread(ident: int, exc_type: type[BaseException]) -> bool:
    """Schedule ``exc_type`` to be raised in thread ``ident``; False if no such thread."""
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                                      ctypes.py_object(exc_type))
    return bool(done)


class RunningCalls:
    """Which worker thread runs which call, so an interrupt can reach them; ``cancelled``
    makes the Cancelled state of a call that was stopped (from the engine's hooks)."""

    def __init__(self, cancelled: Callable[[str], Any]) -> None:
        self._cancelled = cancelled
        self._lock = threading.Lock()
        self._threads: dict[int, str] = {}
        self._interrupted = False

    def wrap(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def tracked(*args: Any) -> Any:
            ident = threading.get_ident()
            with self._lock:
                if self._interrupted:
                    return self._cancelled(NOT_RUN)
                self._threads[ident] = key
            try:
                return fn(*args)
            except TaskInterrupted:  # it landed outside the task runner's own handling
                return self._cancelled(INTERRUPTED)
            finally:
                with self._lock:
                    self._threads.pop(ident, None)

        return tracked

    def running(self) -> set[str]:
        with self._lock:
            return set(self._threads.values())

    def interrupt(self, grace: float) -> dict[str, Any]:
        """Stop every tracked call; the calls still running after ``grace`` seconds (stuck
        in C code), each with its Cancelled state."""
        with self._lock:
            self._interrupted = True
            targets = dict(self._threads)
        for ident in targets:
            raise_in_thread(ident, TaskInterrupted)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with self._lock:
                if not self._threads:
                    return {}
            time.sleep(0.01)
        with self._lock:
            return {key: self._cancelled(STILL_BUSY) for key in self._threads.values()}
