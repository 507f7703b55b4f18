"""Limits on what a request may be, checked before a router sees it.

The wire models bound every field (:mod:`jupyter_flows.api.bounds`); these checks protect
what comes before them: the body's size (413 past ``max_body_bytes``), its JSON syntax and
nesting (422 past ``max_json_depth`` levels, so that neither the parser nor a response
built from stored data ever hits a recursion limit), ``NaN``/``Infinity`` (not JSON, and a
response could not carry them), and URLs whose path or query holds a NUL character (no
database column can compare with one). Validation errors are answered with their text
escaped, since the input they echo may be exactly what cannot be encoded.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from jupyter_flows.api.bounds import escape_text, too_deep

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class RequestLimits:
    """ASGI middleware: body size, JSON syntax and depth, and NUL-free URLs."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url_problem = self._url_problem(scope)
        if url_problem:
            await _answer(scope, receive, send, 422, url_problem)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _answer(scope, receive, send, 413, self._too_large())
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _answer(scope, receive, send, 413, self._too_large())
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = self._body_problem(body) if body and _is_json(scope) else None
        if problem:
            await _answer(scope, receive, send, 422, problem)
            return

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return (f"the request body is larger than {self.max_body_bytes} bytes (the server's "
                f"max_body_bytes, JUPYTER_FLOWS_MAX_BODY_BYTES)")

    def _body_problem(self, body: bytes) -> str | None:
        try:
            data = json.loads(body, parse_constant=_refuse_constant)
        except RecursionError:
            return f"the request body is nested more than {self.max_json_depth} levels deep"
        except json.JSONDecodeError:
            return None  # FastAPI answers it: a 422 of type json_invalid, with the position
        except (ValueError, UnicodeDecodeError) as exc:  # NaN, an int of 5,000 digits...
            return f"the request body is not valid JSON: {escape_text(str(exc))}"
        if too_deep(data, self.max_json_depth):
            return (f"the request body is nested more than {self.max_json_depth} levels deep "
                    f"(the server's max_json_depth, JUPYTER_FLOWS_MAX_JSON_DEPTH)")
        return None  # other problems are the models' to name, with the field

    @staticmethod
    def _url_problem(scope: Scope) -> str | None:
        query = scope.get("query_string", b"").decode("latin-1")
        if "\x00" in scope.get("path", "") or "\x00" in unquote(query):
            return "the URL contains a NUL character (%00), which no name or id holds"
        return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


async def _answer(scope: Scope, receive: Receive, send: Send, status: int, detail: str
                  ) -> None:
    await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    return value


def install(app: FastAPI, max_body_bytes: int, max_json_depth: int) -> None:
    """Add the limits and a validation-error answer that can always be encoded."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            item = {k: v for k, v in error.items() if k in {"type", "loc", "msg", "input"}}
            if "ctx" in error:  # exceptions and other objects, as text
                item["ctx"] = {k: str(v) for k, v in error["ctx"].items()}
            errors.append(item)
        # input nested as deep as the limit allows is still safe to send back
        return JSONResponse({"detail": _escaped(jsonable_encoder(errors))}, status_code=422)

    app.add_middleware(RequestLimits, max_body_bytes=max_body_bytes,
                       max_json_depth=max_json_depth)
