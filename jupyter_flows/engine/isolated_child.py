"""The child process that runs one attempt of a task with a timeout (see ``isolation``).

``python -m jupyter_flows.engine.isolated_child FD``: reads one cloudpickled job from
stdin, runs it, and writes length-prefixed cloudpickled messages to file descriptor FD
(``started``, ``log`` records, then ``done``). Kept light: it imports no more of the
engine than the run context and logging need. When the parent goes away (stdin closes),
the child kills its own process group, so nothing of the attempt outlives it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import struct
import sys
import threading
from typing import Any

_HEADER = struct.Struct("!Q")


def _read_exactly(stream: Any, n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("the parent closed the pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class _Channel:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        import cloudpickle

        data = cloudpickle.dumps(message)
        with self.lock:
            os.write(self.fd, _HEADER.pack(len(data)))
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]


class _SendRecords(logging.Handler):
    def __init__(self, channel: _Channel) -> None:
        super().__init__()
        self.channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        from jupyter_flows.engine.logs import record_to_dict

        # a broken pipe means the parent is gone, and the watchdog ends this process
        with contextlib.suppress(Exception):
            self.channel.send({"kind": "log", "record": record_to_dict(record)})


def _die_with_parent() -> None:
    """Stdin closes when the parent process ends (however it ends): end the group too."""
    try:
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        if hasattr(os, "killpg"):
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)


def main(fd: int) -> None:
    import cloudpickle

    from jupyter_flows.core.context import RunContext, set_run_context
    from jupyter_flows.engine.logs import task_logger
    from jupyter_flows.engine.tracebacks import user_traceback

    channel = _Channel(fd)
    (size,) = _HEADER.unpack(_read_exactly(sys.stdin.buffer, _HEADER.size))
    raw = _read_exactly(sys.stdin.buffer, size)
    threading.Thread(target=_die_with_parent, name="watch-parent", daemon=True).start()
    header = cloudpickle.loads(raw)
    sys.path[:0] = [p for p in header["sys_path"] if p not in sys.path]
    root = logging.getLogger()
    root.addHandler(_SendRecords(channel))
    root.setLevel(header["log_level"])
    try:
        job = cloudpickle.loads(header["job"])
    except BaseException as exc:  # a module the function needs is missing here, ...
        channel.send({"kind": "done", "ok": False, "shipping": f"{type(exc).__name__}: {exc}"})
        return
    fields = job["context"]
    logger = task_logger(fields["flow_name"], fields["task_slug"], fields["task_name"],
                         fields["map_index"], fields["flow_run_id"])
    set_run_context(RunContext(**fields, logger=logger))
    channel.send({"kind": "started"})
    try:
        value = job["fn"](**job["inputs"])
    except BaseException as exc:
        text = user_traceback(exc)
        try:
            channel.send({"kind": "done", "ok": False, "exc": exc, "traceback": text})
        except Exception:
            channel.send({"kind": "done", "ok": False, "exc": RuntimeError(
                f"{type(exc).__name__}: {exc}"), "traceback": text})
        return
    try:
        channel.send({"kind": "done", "ok": True, "value": value})
    except Exception as exc:
        channel.send({"kind": "done", "ok": False,
                      "shipping": f"cannot send its result back: {type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main(int(sys.argv[1]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: threads of user code must not delay the exit
