"""Event streams: a run's events, and the feed of changes to flows, runs and agents.

Both are Server-Sent Events woken by the event bus the moment a write commits (see
:mod:`jupyter_flows.server.events`); a stream also re-reads the database every
``stream_recheck_interval`` seconds in case a change came from somewhere that could not wake
it (another server process on the same SQLite file). ``GET /api/flow_runs/{id}/events``
without ``Accept: text/event-stream`` answers one JSON page instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from jupyter_flows.api import ChangeEvent, RunEventPage
from jupyter_flows.api.bounds import CURSOR_MAX
from jupyter_flows.server.deps import Backend, BackendDep
from jupyter_flows.server.events import Change
from jupyter_flows.server.run_events import load_changes, read_run_events
from jupyter_flows.server.runs import load_run

router = APIRouter(tags=["events"])

_SSE = {"content": {"text/event-stream": {"schema": {"type": "string"}}},
        "description": "with Accept: text/event-stream, the events as Server-Sent Events"}
_PAGE = 500


def _cursor(after: int, last_event_id: str | None) -> int:
    # a header is any text: only ASCII digits count, and a cursor past the last possible
    # seq is that seq (nothing comes after it)
    if last_event_id and last_event_id.isascii() and last_event_id.isdigit():
        return max(after, min(int(last_event_id[:12]), CURSOR_MAX))
    return after


@router.get("/flow_runs/{flow_run_id}/events", response_model=RunEventPage,
            responses={200: _SSE})
async def run_events(
    flow_run_id: str, request: Request, backend: BackendDep,
    after: Annotated[int, Query(ge=0, le=CURSOR_MAX,
                                            description="the last seq already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = _PAGE,
    last_event_id: Annotated[str | None, Header()] = None,
    accept: Annotated[str, Header()] = "",
) -> RunEventPage | EventSourceResponse:
    """A run's flow-run states, task-run states and logs, in ``seq`` order after ``after``
    (or ``Last-Event-ID``); as a stream, ``end`` follows the last event of a finished run."""
    db = backend.db
    start = _cursor(after, last_event_id)
    run_id = await run_in_threadpool(db.run, lambda s: load_run(s, flow_run_id, db.kind).id,
                                     False)

    def page(cursor: int, size: int) -> RunEventPage:
        return db.run(lambda s: read_run_events(s, run_id, cursor, size, db.kind),
                      write=False)

    if "text/event-stream" not in accept:
        return await run_in_threadpool(page, start, limit)
    return EventSourceResponse(_follow_run(backend, request, run_id, start, page),
                               ping=backend.settings.stream_keepalive)


async def _follow_run(backend: Backend, request: Request, run_id: str, cursor: int,
                      read: Callable[[int, int], RunEventPage]
                      ) -> AsyncIterator[ServerSentEvent]:
    recheck = backend.settings.stream_recheck_interval
    with backend.events.watching(run_id) as wakeup:
        while True:
            waiter = wakeup.waiter()  # before reading, so a commit meanwhile wakes us
            got = await run_in_threadpool(read, cursor, _PAGE)
            for event in got.items:
                yield ServerSentEvent(data=event.model_dump_json(), event=event.kind,
                                      id=str(event.seq))
            cursor = got.next_after
            if len(got.items) == _PAGE:
                continue
            if got.finished:
                yield ServerSentEvent(data=json.dumps({"state": got.state}), event="end",
                                      id=str(cursor))
                return
            if wakeup.closed or await request.is_disconnected():
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), timeout=recheck)


@router.get("/events", responses={200: _SSE})
async def change_feed(request: Request, backend: BackendDep,
                      last_event_id: Annotated[str | None, Header()] = None
                      ) -> EventSourceResponse:
    """Server-Sent Events: ``ready`` first (the feed is live: load the lists now), then one
    ``flow``, ``flow_run`` or ``agent`` event per change, with the object as it is now;
    ``reset`` when changes were missed (reload the lists)."""
    return EventSourceResponse(_follow_changes(backend, request, last_event_id),
                               ping=backend.settings.stream_keepalive)


async def _follow_changes(backend: Backend, request: Request, last_event_id: str | None
                          ) -> AsyncIterator[ServerSentEvent]:
    bus, db, settings = backend.events, backend.db, backend.settings
    instance, _, number = (last_event_id or "").partition(":")
    if instance == bus.instance and number.isdigit():
        position = int(number)
    else:
        position = bus.last_change
        kind = "reset" if last_event_id else "ready"
        yield ServerSentEvent(data=json.dumps({"instance": bus.instance}), event=kind,
                              id=f"{bus.instance}:{position}")
    while True:
        waiter = bus.feed.waiter()
        changes = bus.changes_after(position)
        if changes is None:  # fell behind what the server keeps
            position = bus.last_change
            yield ServerSentEvent(data=json.dumps({"instance": bus.instance}), event="reset",
                                  id=f"{bus.instance}:{position}")
            continue
        if changes:
            def load(session: Session, batch: list[Change] = changes
                     ) -> list[tuple[Change, ChangeEvent]]:
                return load_changes(session, batch, settings.agent_timeout)

            for change, event in await run_in_threadpool(db.run, load, False):
                yield ServerSentEvent(data=event.model_dump_json(), event=change.kind,
                                      id=f"{bus.instance}:{change.seq}")
            position = changes[-1].seq
            continue
        if bus.feed.closed or await request.is_disconnected():
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout=settings.stream_keepalive)
