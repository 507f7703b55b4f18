"""Timed task attempts run in a child process, so a timeout can stop them.

Python cannot stop a thread, so a timed-out attempt left in a thread would keep running
beside its retry (double side effects). Every executor therefore runs an attempt of a task
with a ``timeout`` in a fresh ``python -m jupyter_flows.engine.isolated_child`` process in
its own process group; on timeout (or interrupt) the whole group is killed and waited for
before the runner moves on, so nothing of that attempt happens after its ``TimedOut`` state.

The function and its inputs travel with cloudpickle (functions from a notebook or
``__main__`` by value, others by reference: the child gets the parent's ``sys.path``); the
result or exception comes back the same way, and so do log records and printed output.
What cannot be pickled (locks, open connections, generators) makes the attempt ``Failed``
with a :class:`TaskIsolationError` naming the cause. Each attempt pays a process start
(see benchmarks/RESULTS.md) and works on copies: changes it makes to its inputs or to
module state stay in the child.
"""

from __future__ import annotations

import logging
import os
import selectors
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import cloudpickle

from jupyter_flows.core.context import RunContext
from jupyter_flows.engine.tracebacks import carry_traceback
from jupyter_flows.errors import TaskIsolationError

_HEADER = struct.Struct("!Q")
_POLL = 0.05  # wake-ups let an interrupt land in a waiting worker thread promptly
_TASK_LOGGER = "jupyter_flows.task"


class TaskTimeoutError(TimeoutError):
    """The attempt ran past its timeout and was killed."""


class TaskProcessDied(RuntimeError):
    """The child process running the attempt ended without reporting (a crash, OOM kill)."""


def call_isolated(fn: Callable[..., Any], inputs: dict[str, Any], ctx: RunContext,
                  timeout: float) -> Any:
    """``fn(**inputs)`` in a child process; its value, or its exception raised here.

    Raises TaskTimeoutError after killing the child at ``timeout`` seconds (counted from
    when the function starts; loading it in the child may take up to as long again),
    TaskIsolationError when the call cannot travel, TaskProcessDied when the child dies.
    """
    payload = _payload(fn, inputs, ctx)
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "jupyter_flows.engine.isolated_child", str(write_fd)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(write_fd,), start_new_session=True,
        )
    finally:
        os.close(write_fd)
    try:
        assert proc.stdin is not None
        proc.stdin.write(_HEADER.pack(len(payload)) + payload)
        proc.stdin.flush()  # stdin stays open: its closing tells the child we are gone
        return _wait(proc, read_fd, ctx, timeout)
    finally:
        if proc.poll() is None:
            _kill(proc)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        os.close(read_fd)


def _payload(fn: Callable[..., Any], inputs: dict[str, Any], ctx: RunContext) -> bytes:
    try:
        job = cloudpickle.dumps({"fn": fn, "inputs": inputs, "context": ctx.shippable()})
    except Exception as exc:
        raise TaskIsolationError(
            f"task {ctx.task_name!r} has a timeout, so it runs in a child process that can"
            f" be stopped, and its function or inputs cannot be sent there"
            f" ({type(exc).__name__}: {exc}); pass picklable inputs, or drop the timeout"
        ) from None
    level = logging.getLogger(_TASK_LOGGER).getEffectiveLevel()
    return cloudpickle.dumps({"sys_path": list(sys.path), "log_level": min(level, logging.INFO),
                              "job": job})


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - no process groups
            proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()


class _Frames:
    """Length-prefixed messages arriving in pieces on the child's message pipe."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self.buffer += data
        messages = []
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                break
            body = self.buffer[_HEADER.size:_HEADER.size + size]
            self.buffer = self.buffer[_HEADER.size + size:]
            messages.append(cloudpickle.loads(body))
        return messages


def _drain(selector: selectors.BaseSelector, streams: dict[int, Any]) -> None:
    """Copy what the child printed just before it ended (a process it started may keep the
    pipes open, so do not wait for their end)."""
    for _ in range(20):
        ready = selector.select(0.01)
        if not ready:
            return
        for key, _ in ready:
            fd = int(key.fd)
            data = os.read(fd, 65536)
            if not data:
                selector.unregister(fd)
            elif streams.get(fd) is not None:
                streams[fd].write(data.decode(errors="replace"))


def _wait(proc: subprocess.Popen[bytes], read_fd: int, ctx: RunContext, timeout: float) -> Any:
    frames = _Frames()
    streams = {read_fd: None, proc.stdout.fileno(): sys.stdout,  # type: ignore[union-attr]
               proc.stderr.fileno(): sys.stderr}  # type: ignore[union-attr]
    selector = selectors.DefaultSelector()
    for fd in streams:
        selector.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + max(timeout, 1.0)  # loading the job in the child
    started = False
    done: dict[str, Any] | None = None
    try:
        while streams:
            left = deadline - time.monotonic()
            if left <= 0:
                _kill(proc)
                if started:
                    raise TaskTimeoutError(f"timed out after {timeout:g} s")
                raise TaskTimeoutError(
                    f"timed out after {timeout:g} s (still loading in its child process)")
            for key, _ in selector.select(min(left, _POLL)):
                fd = int(key.fd)
                data = os.read(fd, 65536)
                if not data:
                    selector.unregister(fd)
                    del streams[fd]
                    continue
                target = streams[fd]
                if target is not None:
                    target.write(data.decode(errors="replace"))
                    continue
                for message in frames.feed(data):
                    if message["kind"] == "started":
                        started = True
                        deadline = time.monotonic() + timeout
                    elif message["kind"] == "log":
                        record = logging.makeLogRecord({**message["record"], "args": None})
                        logging.getLogger(record.name).handle(record)
                    elif message["kind"] == "done":
                        done = message
            if done is not None and read_fd not in streams:
                _drain(selector, streams)
                break
    finally:
        selector.close()
    proc.wait()
    if done is None:
        raise TaskProcessDied(
            f"the child process running task {ctx.task_name!r} ended with exit code"
            f" {proc.returncode} before the task finished")
    if "shipping" in done:
        raise TaskIsolationError(
            f"task {ctx.task_name!r} ran in a child process (it has a timeout), and"
            f" {done['shipping']}")
    if done["ok"]:
        return done["value"]
    raise carry_traceback(done["exc"], done["traceback"])
