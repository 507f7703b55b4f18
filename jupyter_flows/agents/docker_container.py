"""The container of one flow run, as the Docker agent watches and stops it.

``poll()`` reads the container from the engine and, once it has exited, says how, in
Docker's terms: an OOM kill (``OOMKilled`` with the memory limit), a kill from outside the
agent (``docker kill``, read from the engine's ``kill`` events with the signal), a stop the
agent asked for (``stop()``), or a plain non-zero exit with the last line of output.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from typing import Any

from jupyter_flows.agents.base import Exit

_log = logging.getLogger("jupyter_flows.agent.docker")
TAIL_LINES = 20


def signal_name(number: int) -> str:
    with contextlib.suppress(ValueError):
        return signal.Signals(number).name
    return f"signal {number}"


class DockerContainer:
    """A started container; ``poll()`` gives None while it runs, then an ``Exit``."""

    def __init__(self, api: Any, container_id: str, *, remove: bool = True) -> None:
        self.api = api
        self.id = container_id
        self.remove = remove
        self.started = time.time()
        self._tail: list[str] = []
        self._stop_requested = threading.Event()

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def poll(self) -> Exit | None:
        from docker.errors import NotFound

        try:
            info = self.api.inspect_container(self.id)
        except NotFound:
            return Exit(None, f"container {self.short_id} disappeared (removed while it ran)")
        state = info.get("State") or {}
        if state.get("Status") not in ("exited", "dead"):
            return None
        code = state.get("ExitCode")
        code = int(code) if code is not None else None
        if state.get("OOMKilled"):
            limit = (info.get("HostConfig") or {}).get("Memory") or 0
            limit_text = f" of {limit / 2**20:g} MiB" if limit else ""
            self._tail = self._read_tail()
            return Exit(code, f"OOMKilled: container {self.short_id} used more than its"
                              f" memory limit{limit_text} and was killed")
        if code == 0:
            return Exit(0)
        self._tail = self._read_tail()
        if self._stop_requested.is_set():
            return Exit(code, f"container {self.short_id} was stopped on request"
                              f" (exit code {code})")
        signals = self._kill_signals()
        if signals:
            names = " then ".join(signal_name(s) for s in signals)
            return Exit(code, f"container {self.short_id} was killed from outside the agent"
                              f" ({names}: docker kill or docker stop) and exited with"
                              f" code {code}")
        detail = state.get("Error") or (self._tail[-1] if self._tail else "")
        return Exit(code, f"container {self.short_id} exited with code {code}"
                          + (f": {detail}" if detail else ""))

    def stop(self, grace: float) -> None:
        """SIGTERM to the container, SIGKILL after ``grace`` seconds (``docker stop``), and a
        kill if it still runs after that; a container already gone is fine."""
        from docker.errors import APIError, NotFound

        self._stop_requested.set()
        try:
            self.api.stop(self.id, timeout=max(0, round(grace)))
            if (self.api.inspect_container(self.id).get("State") or {}).get("Running"):
                self.api.kill(self.id)
        except NotFound:
            return
        except APIError as exc:
            if exc.status_code != 409:  # 409: it is not running any more
                raise

    def kill_run(self) -> None:
        """After a cancel's grace: no second grace and no SIGTERM the run already had its
        chance to answer, a SIGKILL now (``docker kill``); a container already gone is fine."""
        from docker.errors import APIError, NotFound

        self._stop_requested.set()
        try:
            self.api.kill(self.id)
        except NotFound:
            return
        except APIError as exc:
            if exc.status_code != 409:  # 409: it is not running any more
                raise

    def failure_logs(self) -> list[str]:
        return self._tail

    def cleanup(self) -> None:
        if self.remove:
            from docker.errors import NotFound

            with contextlib.suppress(NotFound):
                self.api.remove_container(self.id, force=True)

    def _kill_signals(self) -> list[int]:
        """The signals ``docker kill``/``docker stop`` sent this container, from the engine's
        event log (the container has exited, so its events are all there)."""
        try:
            events = self.api.events(since=int(self.started) - 1, until=f"{time.time():.6f}",
                                     filters={"container": self.id, "event": "kill"},
                                     decode=True)
            found = []
            for event in events:
                value = ((event.get("Actor") or {}).get("Attributes") or {}).get("signal")
                if isinstance(value, str) and value.isdigit():
                    found.append(int(value))
            return found
        except Exception as exc:  # events explain, they never decide
            _log.warning("cannot read the events of container %s: %s", self.short_id, exc)
            return []

    def _read_tail(self) -> list[str]:
        try:
            raw = self.api.logs(self.id, stdout=True, stderr=True, tail=TAIL_LINES)
        except Exception as exc:
            _log.warning("cannot read the logs of container %s: %s", self.short_id, exc)
            return []
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return [line for line in text.splitlines() if line.strip()][-TAIL_LINES:]
