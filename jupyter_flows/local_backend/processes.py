"""Child processes: dying with their parent, and stopping them (SIGTERM, then SIGKILL for
whatever outlives the grace period)."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when its parent dies (None
    elsewhere), so a parent killed with SIGKILL leaves no backend or agent behind."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the child
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


def stop_processes(*processes: subprocess.Popen[Any] | None, timeout: float = 15.0) -> None:
    """Terminate every live process, then wait for each up to ``timeout`` seconds and kill
    the ones still running. Terminating all before waiting lets them shut down together."""
    live = [p for p in processes if p is not None]
    for process in live:
        if process.poll() is None:
            process.terminate()
    for process in live:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
