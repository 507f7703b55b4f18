"""The proxy for the backend's event streams: Server-Sent Events passed through as they come.

The panel's ``EventSource`` asks ``/jupyter-flows/api/events`` (the change feed) or
``/jupyter-flows/api/flow_runs/ID/events``; each chunk the backend sends is written and
flushed at once, so an event reaches the browser as soon as the backend emits it, and
``Last-Event-ID`` goes through so a reconnecting browser resumes where it stopped. A stream
ends when the backend ends it, when the browser goes away (the backend connection is closed
then too), or, with a 502 the ``EventSource`` reports as an error, when the backend cannot be
reached; the browser then reconnects by itself.
"""

from __future__ import annotations

import re

import httpx
from tornado.iostream import StreamClosedError
from tornado.web import RequestHandler

#: Backend paths that are event streams.
STREAM_PATH = re.compile(r"^(events|flow_runs/[A-Za-z0-9_\-]+/events)$")


def wants_stream(path: str, accept: str) -> bool:
    return bool(STREAM_PATH.match(path)) and "text/event-stream" in accept


async def forward_stream(handler: RequestHandler, backend_url: str, path: str,
                         api_key: str | None) -> None:
    """Copy the backend's event stream at ``path`` to ``handler``'s response, chunk by chunk."""
    url = f"{backend_url}/api/{path}"
    if handler.request.query:
        url += f"?{handler.request.query}"
    headers = {"Accept": "text/event-stream"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    last_id = handler.request.headers.get("Last-Event-ID")
    if last_id:
        headers["Last-Event-ID"] = last_id
    # no read timeout: the backend sends keep-alive comments, and a stream lasts as it must
    timeout = httpx.Timeout(10.0, read=None)
    streaming = False
    try:
        async with httpx.AsyncClient(timeout=timeout) as client, \
                client.stream("GET", url, headers=headers) as response:
            handler.set_status(response.status_code)
            if response.status_code != 200:
                handler.set_header("Content-Type",
                                   response.headers.get("Content-Type", "application/json"))
                handler.finish(await response.aread())
                return
            handler.set_header("Content-Type", "text/event-stream")
            handler.set_header("Cache-Control", "no-cache")
            handler.set_header("X-Accel-Buffering", "no")  # no buffering in a reverse proxy
            streaming = True
            await handler.flush()
            async for chunk in response.aiter_raw():
                handler.write(chunk)
                await handler.flush()
    except StreamClosedError:
        return  # the browser went away; leaving the block closes the backend's stream
    except httpx.TransportError as exc:
        if streaming:  # cut mid-stream: end it; the browser reconnects with Last-Event-ID
            handler.finish()
        else:
            handler.set_status(502)
            handler.finish({"message": f"backend at {backend_url} is not reachable: {exc}",
                            "backend_url": backend_url})
        return
    handler.finish()
