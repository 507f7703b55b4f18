"""Task code for the compatibility suite, importable by worker processes. Side effects go
to files, since a task may run in another process."""

from __future__ import annotations

import os
import time
from typing import Any

from jupyter_flows import LOOP, Task, context, get_run_context
from jupyter_flows.utilities.tasks import defaults_from_attrs, pause_task


def record(path: str, line: object) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


def lines(path: str) -> list[str]:
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def inc(x: int) -> int:
    return x + 1


def add(x: int, y: int) -> int:
    return x + y


def pair(x: int) -> tuple[int, int]:
    return (x + 1, x - 1)


def make_set() -> set[int]:
    return {1, 2, 3}


def ran(log: str) -> str:
    record(log, "ran")
    return "ran"


def noted(log: str, value: Any) -> Any:
    record(log, value)
    return value


def divide(x: int) -> float:
    return 1 / x


def sleep_then_note(log: str, first: float, later: float) -> str:
    """The first attempt sleeps ``first`` seconds, later ones ``later``; each notes itself
    after sleeping (the side effect a stopped attempt must never reach)."""
    ctx = get_run_context()
    assert ctx is not None
    time.sleep(first if ctx.run_count == 1 else later)
    record(log, f"attempt {ctx.run_count}")
    return f"attempt {ctx.run_count}"


def looper(x: int) -> int:
    """Prefect's looping example: 20 iterations, adding ``x`` each time."""
    if context.get("task_loop_count", 1) < 20:
        raise LOOP(result=context.get("task_loop_result", 0) + x)
    return context.get("task_loop_result") + x


def approve(log: str) -> str:
    record(log, "before the pause")
    pause_task("needs a person")
    record(log, "approved")
    return "approved"


def square(x: int) -> int:
    return x * x


def is_even(x: int) -> bool:
    return x % 2 == 0


def with_lock(lock: Any, x: int) -> int:
    """Bound with ``functools.partial`` to a lock, the task cannot be pickled."""
    with lock:
        return x + 1


def where_am_i(item: Any = None) -> str:
    """The worker this ran on; it takes a moment, so an idle worker would get work."""
    from distributed import get_worker

    time.sleep(0.1)
    return str(get_worker().address)


class Multiply(Task):
    """A class-based task, as Prefect users write them."""

    def __init__(self, factor: int = 2, **options: Any) -> None:
        self.factor = factor
        super().__init__(**options)

    @defaults_from_attrs("factor")
    def run(self, x: int, factor: int | None = None) -> int:
        self.logger.info("multiplying %s by %s", x, factor)
        return x * (factor or 1)


class TempDir:
    """A resource: made with a base path, set up as a directory, cleaned up after."""

    def __init__(self, base: str, log: str) -> None:
        self.base = base
        self.log = log

    def setup(self) -> str:
        os.makedirs(self.base, exist_ok=True)
        record(self.log, "setup")
        return self.base

    def cleanup(self, path: str) -> None:
        record(self.log, f"cleanup {os.path.basename(path)}")


def write_in(directory: str, name: str, log: str) -> str:
    record(log, f"write {name}")
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(name)
    return path


def fail_in(directory: str, log: str) -> None:
    record(log, "fail")
    raise ValueError("broken inside the resource block")


def all_upstream_named(upstream_states: dict) -> bool:
    """A trigger written with Prefect's signature: runs when every upstream edge carries a
    key (a data dependency), refusing with TRIGGERFAIL otherwise."""
    from jupyter_flows import TRIGGERFAIL

    if not all(edge.key for edge in upstream_states):
        raise TRIGGERFAIL("an order-only upstream is not allowed")
    return all(state.is_successful() for state in upstream_states.values())
