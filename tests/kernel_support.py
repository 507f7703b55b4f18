"""A real ipykernel kernel driven as JupyterLab drives it, for the notebook tests."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Reply:
    """What one execute request published: printed text, error tracebacks, comms opened."""

    text: str = ""
    errors: list[str] = field(default_factory=list)
    opened: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error(self) -> str:
        return "\n".join(self.errors)


class Kernel:
    """A kernel and its client; ``execute`` sends what JupyterLab would."""

    def __init__(self, manager: Any, client: Any) -> None:
        self.manager, self.client = manager, client

    def execute(self, code: str, cell_id: str | None = None, *,
                interrupt_when: Path | None = None, timeout: float = 120) -> Reply:
        """Run ``code`` (with JupyterLab's cellId metadata when given); with
        ``interrupt_when``, interrupt the kernel (as the stop button does) once that file
        has content."""
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        msg = self.client.session.msg("execute_request", content,
                                      metadata={"cellId": cell_id} if cell_id else {})
        self.client.shell_channel.send(msg)
        return self._collect(msg["header"]["msg_id"], interrupt_when, timeout)

    def comm_open(self, data: dict[str, Any], target: str) -> None:
        msg = self.client.session.msg("comm_open", {"comm_id": "lab-1", "target_name": target,
                                                    "data": data})
        self.client.shell_channel.send(msg)

    def _collect(self, msg_id: str, interrupt_when: Path | None, timeout: float) -> Reply:
        reply = Reply()
        text: list[str] = []
        pending_interrupt = interrupt_when
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pending_interrupt is not None and pending_interrupt.exists() \
                    and pending_interrupt.stat().st_size:
                time.sleep(0.3)
                self.manager.interrupt_kernel()
                pending_interrupt = None
            try:
                msg = self.client.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind == "error":
                reply.errors.append("\n".join(content["traceback"]))
            elif kind == "comm_open":
                reply.opened.append(content)
            elif kind == "status" and content["execution_state"] == "idle":
                reply.text = "".join(text)
                return reply
        raise AssertionError(f"no reply to {msg_id} within {timeout:.0f} s; so far: "
                             f"{''.join(text)}")


@pytest.fixture(name="kernel")
def kernel_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kernel]:
    from jupyter_client.manager import start_new_kernel

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        yield Kernel(manager, client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
