"""What happened, as it commits: numbering a run's events, and waking whoever waits for them.

Writers call :func:`next_seqs` (a run's event numbers, under its row lock) or
:func:`mark_changed` inside their transaction; the session remembers what changed, and after
the commit :class:`Database` hands that to :meth:`EventBus.committed`, which wakes

* the run's event streams (``GET /api/flow_runs/{id}/events``),
* the list feed (``GET /api/events``), which numbers changes per server instance, and
* waiting claims, when a run became due.

On PostgreSQL the same changes also go out as ``NOTIFY`` in the writing transaction, so every
server process on the database wakes its own waiters (:mod:`jupyter_flows.server.pg_listen`).
Each waiter still re-reads the database after a wake-up: the bus carries ids, never data.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from jupyter_flows.server.models import FlowRunModel

ChangeKind = Literal["flow", "flow_run", "agent"]
#: How many list-feed changes a server keeps for clients that reconnect.
FEED_BUFFER = 10_000


class Wakeup:
    """An edge-triggered signal: ``waiter()`` gives the event the next ``notify`` sets.

    ``notify`` may be called from any thread; waiters live on the server's event loop. Take
    the waiter *before* looking for work, so a change made meanwhile is not missed.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._lock = threading.Lock()
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._loop = loop
            self._event = asyncio.Event()

    def waiter(self) -> asyncio.Event:
        with self._lock:
            if self._event is None or self._loop is not asyncio.get_running_loop():
                self._loop = asyncio.get_running_loop()
                self._event = asyncio.Event()
            return self._event

    def close(self) -> None:
        """Wake every waiter for good (the server is stopping)."""
        self.closed = True
        self.notify()

    def notify(self) -> None:
        with self._lock:
            loop, event = self._loop, self._event
            if loop is None or event is None:
                return
            if not self.closed:
                self._event = asyncio.Event()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(event.set)


@dataclass(frozen=True)
class Change:
    seq: int
    kind: ChangeKind
    id: str


@dataclass
class Changes:
    """What one transaction changed (kept in ``session.info``)."""

    runs: set[str] = field(default_factory=set)
    items: set[tuple[ChangeKind, str]] = field(default_factory=set)
    due: bool = False

    def __bool__(self) -> bool:
        return bool(self.runs or self.items or self.due)


class EventBus:
    """One server process's waiters: claims, each run's streams and the list feed."""

    def __init__(self) -> None:
        self.instance = uuid.uuid4().hex[:12]
        self.claims = Wakeup()
        self.feed = Wakeup()
        self._runs: dict[str, tuple[Wakeup, int]] = {}
        self._changes: deque[Change] = deque(maxlen=FEED_BUFFER)
        self._seq = 0
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.claims.bind(loop)
        self.feed.bind(loop)

    def close(self) -> None:
        self.claims.close()
        self.feed.close()
        with self._lock:
            wakeups = [wakeup for wakeup, _ in self._runs.values()]
        for wakeup in wakeups:
            wakeup.close()

    @contextmanager
    def watching(self, run_id: str) -> Iterator[Wakeup]:
        """The wake-up of one run's events, while a stream follows it."""
        with self._lock:
            wakeup, count = self._runs.get(run_id, (Wakeup(), 0))
            self._runs[run_id] = (wakeup, count + 1)
        try:
            yield wakeup
        finally:
            with self._lock:
                wakeup, count = self._runs[run_id]
                if count == 1:
                    del self._runs[run_id]
                else:
                    self._runs[run_id] = (wakeup, count - 1)

    def committed(self, changes: Changes) -> None:
        """Wake what waits for ``changes`` (called after a commit, from any thread)."""
        if changes.due:
            self.claims.notify()
        with self._lock:
            wakeups = [self._runs[r][0] for r in changes.runs if r in self._runs]
            items: set[tuple[ChangeKind, str]] = changes.items | {
                ("flow_run", run_id) for run_id in changes.runs}
            for kind, id_ in sorted(items):
                self._seq += 1
                self._changes.append(Change(self._seq, kind, id_))
        for wakeup in wakeups:
            wakeup.notify()
        if items:
            self.feed.notify()

    def changes_after(self, seq: int) -> list[Change] | None:
        """Changes after ``seq``, or None if some are no longer kept (the client must reload)."""
        with self._lock:
            if seq > self._seq:
                return None
            if seq == self._seq:
                return []
            if not self._changes or self._changes[0].seq > seq + 1:
                return None
            return [change for change in self._changes if change.seq > seq]

    @property
    def last_change(self) -> int:
        return self._seq


# ------------------------------------------------------------ inside a write transaction
def changes_of(session: Session) -> Changes:
    changes: Changes | None = session.info.get("changes")
    if changes is None:
        changes = session.info["changes"] = Changes()
    return changes


def next_seqs(session: Session, run: FlowRunModel, count: int = 1) -> range:
    """The next ``count`` event numbers of ``run``, whose row this transaction has locked."""
    first = run.event_seq + 1
    run.event_seq += count
    changes_of(session).runs.add(run.id)
    return range(first, first + count)


def mark_changed(session: Session, kind: ChangeKind, ids: Iterable[str]) -> None:
    changes_of(session).items.update((kind, id_) for id_ in ids)


def mark_due(session: Session) -> None:
    """A run became claimable: wake the waiting claims once this commits."""
    changes_of(session).due = True
