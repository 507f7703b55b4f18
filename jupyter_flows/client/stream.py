"""Following the backend's event streams (Server-Sent Events), across disconnections.

:func:`follow_run` yields a run's events in ``seq`` order until the run has finished and
every event was seen; :func:`follow_changes` yields the list feed's changes for as long as
it is read. When the connection drops (the server restarts, a proxy times out) they connect
again with capped, jittered exponential backoff and resume where they stopped
(``Last-Event-ID``), so nothing is lost or repeated; they give up with
:class:`~jupyter_flows.errors.BackendUnavailable` only after ``give_up_after`` seconds
without a connection. There is no polling: between events the connection just waits, and
the server's keep-alive comments show it is alive.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from pydantic import TypeAdapter

from jupyter_flows.api import ChangeEvent, RunEvent
from jupyter_flows.client.transport import response_error
from jupyter_flows.errors import BackendUnavailable

if TYPE_CHECKING:
    from httpx_sse import EventSource, ServerSentEvent

    from jupyter_flows.client.transport import Transport

#: Read timeout of a stream: the server sends a keep-alive every 15 s by default.
STREAM_READ_TIMEOUT = 60.0
_RUN_EVENT: TypeAdapter[RunEvent] = TypeAdapter(RunEvent)


@dataclass(frozen=True)
class FeedEvent:
    """One event of the list feed: ``kind`` is ``ready``, ``reset``, ``flow``, ``flow_run`` or
    ``agent``; ``change`` is None for ``ready`` and ``reset`` (reload the lists then)."""

    kind: str
    id: str
    change: ChangeEvent | None


def follow_run(transport: Transport, flow_run_id: str, after: int = 0, *,
               give_up_after: float = 300.0) -> Iterator[RunEvent]:
    """A run's events after ``after``, until its ``end``."""
    for sse in _stream(transport, f"/api/flow_runs/{flow_run_id}/events",
                       str(after) if after else None, give_up_after):
        if sse.event == "end":
            return
        yield _RUN_EVENT.validate_json(sse.data)


def follow_changes(transport: Transport, last_event_id: str | None = None, *,
                   give_up_after: float = 300.0) -> Iterator[FeedEvent]:
    """The list feed: ``ready`` (or ``reset``) first, then a change per event."""
    for sse in _stream(transport, "/api/events", last_event_id, give_up_after):
        change = (ChangeEvent.model_validate_json(sse.data)
                  if sse.event in ("flow", "flow_run", "agent") else None)
        yield FeedEvent(sse.event, sse.id, change)


def _stream(transport: Transport, path: str, last_id: str | None, give_up_after: float
            ) -> Iterator[ServerSentEvent]:
    """Server-sent events from ``path``; whenever the connection drops, connects again with
    the id of the last event seen (as a browser's EventSource does), until the consumer
    stops."""
    from httpx_sse import SSEError

    while True:
        stack, source = _connect(transport, path, last_id, give_up_after)
        try:
            with stack:
                for sse in source.iter_sse():
                    last_id = sse.id or last_id
                    yield sse
        except SSEError as exc:
            raise BackendUnavailable(transport.url, f"not an event stream: {exc}") from exc
        except httpx.TransportError:
            pass  # dropped mid-stream: connect again and resume


def _connect(transport: Transport, path: str, last_id: str | None, give_up_after: float
             ) -> tuple[ExitStack, EventSource]:
    from httpx_sse import connect_sse
    from tenacity import (
        Retrying,
        retry_if_exception_type,
        stop_after_delay,
        wait_exponential,
        wait_random,
    )

    headers = {"Last-Event-ID": last_id} if last_id else {}
    timeout = httpx.Timeout(transport.http.timeout.connect or 10.0, read=STREAM_READ_TIMEOUT)
    try:
        for attempt in Retrying(
                wait=wait_exponential(multiplier=0.1, max=5.0) + wait_random(0, 0.1),
                stop=stop_after_delay(give_up_after),
                retry=retry_if_exception_type(httpx.TransportError), reraise=True):
            with attempt:
                stack = ExitStack()
                try:
                    source = stack.enter_context(connect_sse(
                        transport.http, "GET", path, headers=headers, timeout=timeout))
                    if source.response.status_code >= 400:
                        source.response.read()
                        raise response_error(source.response)
                except BaseException:
                    stack.close()
                    raise
    except httpx.TransportError as exc:
        raise BackendUnavailable(transport.url, str(exc) or type(exc).__name__) from exc
    return stack, source
