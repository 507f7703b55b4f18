"""Task functions and state handlers for the engine tests.

They live in an importable module (``tests`` is on ``PYTHONPATH``, see ``conftest.py``) so
that worker processes of the processes and distributed executors can unpickle them by
reference. Side effects that tests count (executions, attempts) go through files, since a
task may run in another process.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_flows import FAIL, RETRY, SKIP, SUCCESS, get_run_context

# ----------------------------------------------------------------- side-effect files


def record(path: str | os.PathLike[str], line: object) -> None:
    """Append one line to ``path``; a single O_APPEND write, so concurrent writers interleave
    whole lines."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


def lines(path: str | os.PathLike[str]) -> list[str]:
    """The lines recorded in ``path`` so far (none if it does not exist)."""
    try:
        return Path(path).read_text().splitlines()
    except FileNotFoundError:
        return []


# ------------------------------------------------------------------------ plain work


def inc(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return 2 * x


def add(x: int, y: int) -> int:
    return x + y


def total(xs: list[int]) -> int:
    return sum(xs)


def as_set(xs: list[Any]) -> set[Any]:
    return set(xs)


def as_list(xs: list[Any]) -> list[Any]:
    return list(xs)


def make_list(n: int) -> list[int]:
    return list(range(n))


def make_nested(n: int) -> list[list[int]]:
    """``[[0], [1, 1], [2, 2, 2], ...]`` for n rows."""
    return [[i] * (i + 1) for i in range(n)]


def tag(x: Any) -> dict[str, Any]:
    """A record remembering the value it was made from."""
    return {"source": x, "value": x * 10}


def untag(record: dict[str, Any]) -> tuple[Any, Any]:
    return (record["source"], record["value"] + 1)


def not_a_sequence() -> int:
    return 42


def pair(x: int) -> tuple[int, int]:
    return (x, x * x)


def ran(log: str) -> str:
    """Succeeds and records that it ran."""
    record(log, "ran")
    return "ran"


def noted(log: str, value: Any) -> Any:
    """Records ``value`` and returns it."""
    record(log, value)
    return value


def noted_add(log: str, x: int, y: int) -> int:
    record(log, f"{x}+{y}")
    return x + y


def noted_inc(log: str, x: int) -> int:
    record(log, x)
    return x + 1


def compute_report(log: str, x: int) -> dict[str, int]:
    record(log, x)
    return {"x": x, "square": x * x}


# ----------------------------------------------------------------------- failures


class UserError(ValueError):
    """A user's own exception type."""


class UnpicklableError(Exception):
    """An exception that cannot cross a process boundary (it holds a lock)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def _parse_row(row: str) -> int:
    raise UserError(f"cannot parse row {row!r}")


def load_rows_from_user_code(row: str = "x,y") -> int:
    """Fails two calls deep inside user code."""
    return _parse_row(row)


def raise_unpicklable() -> None:
    raise UnpicklableError("holds a lock")


def boom(message: str = "boom") -> None:
    raise UserError(message)


def succeed_or_fail(outcome: str) -> str:
    """``ok`` returns, ``fail`` raises, ``skip`` raises SKIP."""
    if outcome == "fail":
        raise UserError("asked to fail")
    if outcome == "skip":
        raise SKIP("asked to skip")
    return outcome


def raise_signal(log: str, kind: str) -> str:
    """Records the attempt, then raises the signal named by ``kind`` on the first attempt."""
    record(log, kind)
    attempt = len(lines(log))
    if kind == "FAIL":
        raise FAIL("failed on purpose")
    if kind == "SKIP":
        raise SKIP("nothing to do")
    if kind == "SUCCESS":
        raise SUCCESS("done early", result="early result")
    if kind == "RETRY" and attempt == 1:
        raise RETRY("not ready yet")
    return "finished normally"


def flaky(log: str, failures: int, exc: str = "UserError") -> int:
    """Records the attempt with its time; fails the first ``failures`` attempts."""
    record(log, time.time())
    attempt = len(lines(log))
    if attempt <= failures:
        raise {"UserError": UserError, "KeyError": KeyError}[exc](f"attempt {attempt}")
    return attempt


def hang(log: str, seconds: float = 5.0) -> str:
    """Simulates a hung call: sleeps far longer than the timeouts of the tests using it."""
    record(log, time.time())
    time.sleep(seconds)
    return "woke up"


# ------------------------------------------------------------------ logging, context


def noisy(word: str) -> str:
    print(f"hello {word}")
    print("second line", end="")
    return word


def run_facts(x: Any = None) -> dict[str, Any]:
    ctx = get_run_context()
    assert ctx is not None
    return {
        "flow_name": ctx.flow_name, "flow_run_id": ctx.flow_run_id,
        "task_name": ctx.task_name, "task_slug": ctx.task_slug, "map_index": ctx.map_index,
        "task_run_name": ctx.task_run_name, "run_count": ctx.run_count,
        "parameters": dict(ctx.parameters),
    }


def run_count_until(log: str, succeed_on: int) -> int:
    """Fails until the run context's run_count reaches ``succeed_on``."""
    ctx = get_run_context()
    assert ctx is not None
    record(log, ctx.run_count)
    if ctx.run_count < succeed_on:
        raise UserError(f"run {ctx.run_count}")
    return ctx.run_count


# -------------------------------------------------------------------- state handlers


def record_transition(log: str, task: Any, old: Any, new: Any) -> None:
    """A state handler (bind ``log`` with functools.partial) writing ``Old->New``."""
    record(log, f"{old.name if old is not None else None}->{new.name}")


def recover_failures(task: Any, old: Any, new: Any) -> Any:
    """A state handler turning a Failed end state into Success("recovered")."""
    from jupyter_flows.engine.states import Success

    if new.is_failed():
        return Success("recovered by handler", result="recovered")
    return None


def log_through_get_logger(message: str) -> str:
    from jupyter_flows import get_logger

    get_logger().warning("task says %s", message)
    return message


def describe_run(x: int) -> str:
    """A ``task_run_name`` callable."""
    return f"item #{x}"


class BrokenCluster:
    """A cluster class whose constructor fails, as a misconfigured deployment would."""

    def __init__(self, size: int) -> None:
        raise RuntimeError(f"no capacity for {size} workers")


def failing_handler(on_state: str) -> Any:
    """A state handler that raises when the task moves to ``on_state``."""

    def handler(task: Any, old: Any, new: Any) -> None:
        if new.name == on_state:
            raise UserError(f"cannot handle {on_state}")

    handler.__name__ = f"fail_on_{on_state.lower()}"
    return handler


def die() -> None:
    """Kills the worker process running it, as a segfault or the OOM killer would."""
    os._exit(3)
