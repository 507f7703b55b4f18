"""The bounds of everything the API accepts, in one place, and the checks that apply them.

Why bounds: anything the backend stores it must be able to store *and read back into a
response*. An integer past the database's range, a string longer than its column, text
that is not valid Unicode (a lone surrogate such as ``"\\ud800"``, which UTF-8 cannot
encode), a NUL character (PostgreSQL text cannot hold one), a timestamp that leaves the
years 1..9999 once converted to UTC, or JSON nested deeper than a response can be
serialized: each used to be stored and then turned every list that included it into a 500.

So every request body is checked before it reaches the database:

* integers: within :data:`INT32_MAX` where the column is an ``INTEGER`` (32 bits on
  PostgreSQL: map indexes, retries, versions), :data:`INT64_MAX` for cursors and offsets;
* strings: the size of their column (:data:`NAME_MAX` for names, projects, labels and keys,
  :data:`SLUG_MAX` for task slugs, :data:`MESSAGE_MAX` for messages);
* lists: :data:`LIST_MAX` items (:data:`BATCH_MAX` for batches of logs or task-run states);
* JSON values (parameters, configs, parameter defaults): :data:`JSON_DEPTH_MAX` levels,
  storable text only, finite numbers only;
* timestamps: must stay within years 1..9999 in UTC.

A bad value is a 422 naming the field and the bound. Log records are the exception: their
text is escaped (:func:`escape_text`) rather than refused, because one odd character in a
log line must not cost a run its logs. The server adds a limit on the size and nesting of
the raw request body (``max_body_bytes``, ``max_json_depth`` in its settings).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, Field

#: The largest value of a 64-bit signed integer (SQLite's INTEGER, PostgreSQL's BIGINT).
INT64_MAX = 2**63 - 1
#: The largest value of a 32-bit signed integer (PostgreSQL's INTEGER).
INT32_MAX = 2**31 - 1
#: A cursor over log ids or event seqs (``INTEGER`` columns, 32 bits on PostgreSQL).
CURSOR_MAX = INT32_MAX
#: Names, projects, labels, idempotency keys: the ``String(200)`` columns.
NAME_MAX = 200
#: Task slugs and task names: the ``String(300)`` columns.
SLUG_MAX = 300
#: An agent's type: ``String(100)``.
TYPE_MAX = 100
#: A log level name: ``String(16)``.
LEVEL_MAX = 16
#: A state message or an infrastructure failure's message (characters).
MESSAGE_MAX = 100_000
#: One log record's message (characters); longer ones are cut, saying so.
LOG_MESSAGE_MAX = 1_000_000
#: Items in a list field (labels, tags, tasks, edges, parameters).
LIST_MAX = 10_000
#: Labels or states a list may be filtered by (each is a term of the SQL query).
FILTER_MAX = 100
#: Items in one batch of log records or task-run states.
BATCH_MAX = 10_000
#: Flow runs one batch creates (one write transaction: kept short so claims wait little).
RUN_BATCH_MAX = 1_000
#: Retries of a run or a task.
RETRIES_MAX = 10_000
#: Nesting levels of a JSON value inside a field (a body's own limit is a server setting).
JSON_DEPTH_MAX = 64
#: Seconds a claim may long-poll for.
WAIT_MAX = 3600.0


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or ``None`` when it can."""
    for index, char in enumerate(text):
        if char == "\x00":
            return f"contains a NUL character at position {index}, which cannot be stored"
        if "\ud800" <= char <= "\udfff":
            return (f"contains a lone surrogate {char!r} at position {index}, which is not "
                    f"valid Unicode and cannot be stored (escape it, e.g. with "
                    f"str.encode('utf-8', 'backslashreplace'))")
    return None


def _has_bad_char(text: str) -> bool:
    # a fast path: almost every string is fine and encodes at C speed
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_text(text: str) -> str:
    """A string field's check: refuses text that cannot be stored (see the module doc)."""
    if _has_bad_char(text):
        raise ValueError(text_problem(text) or "cannot be stored")
    return text


def escape_text(text: str) -> str:
    """``text`` with what cannot be stored spelled out: a lone surrogate as ``\\udce9``
    (the form ``backslashreplace`` gives; a ``surrogateescape``-decoded byte 0xE9 is
    ``\\udce9``) and NUL as ``\\x00``, so a non-UTF-8 filename in a log line stays readable."""
    if not _has_bad_char(text):
        return text
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def json_problem(value: Any, max_depth: int = JSON_DEPTH_MAX) -> str | None:
    """Why the JSON value cannot be stored and served back, or ``None``; names the path.

    Iterative, so a value nested deeper than Python's recursion limit is reported, not a
    ``RecursionError``.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if depth > max_depth:
            shown = path if len(path) <= 48 else path[:48] + "..."
            return f"{shown or 'the value'} is nested more than {max_depth} levels deep"
        if isinstance(item, str):
            if _has_bad_char(item):
                return f"{path or 'the value'} {text_problem(item)}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{path or 'the value'} is {item}, which JSON cannot hold"
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"{path or 'the value'} has a key {key!r} that is not a string"
                if _has_bad_char(key):
                    return f"a key in {path or 'the value'} {text_problem(key)}"
                stack.append((child, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(item, (list, tuple)):
            for index, child in enumerate(item):
                stack.append((child, f"{path}[{index}]", depth + 1))
    return None


def too_deep(value: Any, max_depth: int) -> bool:
    """Whether a JSON value is nested more than ``max_depth`` levels (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth and item:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list))
    return False


def check_json(value: Any) -> Any:
    """A JSON field's check (see :func:`json_problem`)."""
    problem = json_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def check_timestamp(value: datetime) -> datetime:
    """A timestamp as UTC (naive ones are taken as UTC); refused when UTC has no such time
    in years 1..9999 (year 1 at +14:00 is year 0 in UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside years 1 to 9999 once converted to "
                         f"UTC") from None


def clamp_timestamp(value: datetime) -> datetime:
    """A timestamp as UTC, moved to the nearest time UTC can hold (for log records, which
    are kept rather than refused)."""
    try:
        return check_timestamp(value)
    except ValueError:
        edge = datetime.min if value.year < 5000 else datetime.max
        return edge.replace(tzinfo=timezone.utc)


#: A string that can be stored (no NUL, no lone surrogate).
Text = Annotated[str, AfterValidator(check_text)]
#: A name, project, label or key (``String(200)``).
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(check_text)]
#: An optional-length short string (``String(200)``), e.g. a filter.
ShortText = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(check_text)]
#: A task slug or name (``String(300)``).
Slug = Annotated[str, Field(max_length=SLUG_MAX), AfterValidator(check_text)]
#: A message stored as ``Text``.
Message = Annotated[str, Field(max_length=MESSAGE_MAX), AfterValidator(check_text)]
#: A map index (``INTEGER``).
MapIndex = Annotated[int, Field(ge=0, le=INT32_MAX)]
#: A retry count.
Retries = Annotated[int, Field(ge=0, le=RETRIES_MAX)]
#: A version number or a state version (``INTEGER``).
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]
#: A process exit code (negative for a signal on POSIX).
ExitCode = Annotated[int, Field(ge=-INT32_MAX, le=INT32_MAX)]
#: A list of labels.
Labels = Annotated[list[Name], Field(max_length=LIST_MAX)]
#: A JSON object field (parameters, configs): storable text, finite numbers, bounded depth.
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
#: Any JSON value (a parameter's default).
JsonValue = Annotated[Any, AfterValidator(check_json)]
#: A timestamp that can be stored.
Timestamp = Annotated[datetime, AfterValidator(check_timestamp)]
#: Seconds, finite and non-negative (retry delays, timeouts, cache durations).
Seconds = Annotated[float, Field(ge=0, le=10 * 365 * 86400, allow_inf_nan=False)]
