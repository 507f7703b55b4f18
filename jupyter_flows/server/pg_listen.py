"""PostgreSQL LISTEN/NOTIFY: changes committed by one server process wake the others.

A writing transaction sends its :class:`~jupyter_flows.server.events.Changes` as JSON on the
``jupyter_flows`` channel (PostgreSQL delivers it at commit, and only if it commits); every
server process listens on its own connection and hands what arrives to its event bus. A
payload too long for NOTIFY (8000 bytes) is split. The listener reconnects with backoff when
its connection drops; waiters also re-check the database now and then, so a notification
lost in that gap costs latency, never an event.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import text

from jupyter_flows.server.events import Changes

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CHANNEL = "jupyter_flows"
_MAX_PAYLOAD = 7000
_log = logging.getLogger("jupyter_flows.server.pg_listen")


def notify_changes(session: Session, changes: Changes) -> None:
    """Queue ``changes`` as NOTIFY payloads on ``session``'s transaction."""
    runs = sorted(changes.runs)
    items = sorted(changes.items)
    payloads: list[dict[str, object]] = [{"due": changes.due, "runs": [], "items": []}]
    for key, values in (("runs", runs), ("items", items)):
        for value in values:
            payload = payloads[-1]
            if len(json.dumps(payload)) > _MAX_PAYLOAD:
                payload = {"due": False, "runs": [], "items": []}
                payloads.append(payload)
            payload[key].append(value)  # type: ignore[attr-defined]
    for payload in payloads:
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": json.dumps(payload)})


def parse(payload: str) -> Changes:
    data = json.loads(payload)
    return Changes(runs=set(data.get("runs", ())),
                   items={(kind, id_) for kind, id_ in data.get("items", ())},
                   due=bool(data.get("due")))


class Listener:
    """A thread that LISTENs on the channel and calls ``deliver`` with each change set."""

    def __init__(self, url: str, deliver: Callable[[Changes], None]) -> None:
        self.url = url
        self.deliver = deliver
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jupyter-flows-pg-listen",
                                        daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception_type,
            wait_exponential,
            wait_random,
        )

        retrying = Retrying(
            wait=wait_exponential(multiplier=0.1, max=5.0) + wait_random(0, 0.1), sleep=self._nap,
            stop=lambda _: self._stop.is_set(), retry=retry_if_exception_type(Exception),
            before_sleep=lambda state: _log.warning(
                "LISTEN %s failed (%s); listening again", CHANNEL,
                state.outcome.exception() if state.outcome else "?"))
        with contextlib.suppress(RetryError):
            for attempt in retrying:
                with attempt:
                    self._listen()

    def _nap(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _listen(self) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        dsn = make_url(self.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                for note in connection.notifies(timeout=1.0):
                    self.deliver(parse(note.payload))
