"""Stopping child processes: SIGTERM first, SIGKILL for whatever outlives the grace period."""

from __future__ import annotations

import subprocess
from typing import Any


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
