"""Interrupting ``%flow run`` in a real kernel (as JupyterLab's stop button does, through
the kernel manager): on every local executor the run ends Cancelled, the cell prints the
run's lines and no engine traceback, the task stops, and the kernel goes on working.
The time from interrupt to Cancelled is measured in benchmarks/interrupts.py."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

TICK = """%%task tick
import time
for step in range(1200):  # two minutes, in Python code
    with open(TICKS, "a") as marks:
        marks.write("tick\\n")
    time.sleep(0.1)
ticked = step"""
AFTER = "%%task after\ndone = ticked + 1"


class Kernel:
    def __init__(self, manager: Any, client: Any) -> None:
        self.manager, self.client = manager, client

    def execute(self, code: str, *, interrupt_when: Path | None = None) -> tuple[str, str]:
        """Run ``code``; with ``interrupt_when``, interrupt the kernel once that file has
        content. Returns the cell's text output and its error traceback (if any)."""
        msg_id = self.client.execute(code)
        text: list[str] = []
        errors: list[str] = []
        interrupted = interrupt_when is None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not interrupted and interrupt_when is not None and interrupt_when.exists() \
                    and interrupt_when.stat().st_size:
                time.sleep(0.3)
                self.manager.interrupt_kernel()
                interrupted = True
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
                errors.append("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(text), "\n".join(errors)
        raise AssertionError(f"{code!r} gave no reply within 120 s; so far: {''.join(text)}")


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kernel]:
    from jupyter_client.manager import start_new_kernel

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        yield Kernel(manager, client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def ticks(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize(("words", "described"), [
    ("", "LocalExecutor"),
    (" --executor local-dask threads", "LocalDaskExecutor(threads)"),
    (" --executor local-dask processes", "LocalDaskExecutor(processes)"),
])
def test_an_interrupted_flow_run_ends_cancelled_and_the_kernel_goes_on(
        kernel: Kernel, tmp_path: Path, words: str, described: str) -> None:
    marks = tmp_path / "ticks"
    kernel.execute("%load_ext jupyter_flows")
    kernel.execute(f"TICKS = {str(marks)!r}")
    kernel.execute(TICK)
    kernel.execute(AFTER)

    out, error = kernel.execute(f"%flow run{words}", interrupt_when=marks)
    lines = out.splitlines()
    assert lines[0].startswith("flow 'notebook': Cancelled in "), out
    assert f"on {described} (2 Cancelled)" in lines[0]
    assert lines[1].split() == ["tick", "Cancelled", "interrupted", "while", "running",
                                "(KeyboardInterrupt)"]
    assert lines[2].split()[:2] == ["after", "Cancelled"]
    assert "Traceback" not in out and error == ""  # one summary, no engine traceback
    stopped_at = ticks(marks)
    time.sleep(1)
    assert ticks(marks) == stopped_at  # nothing goes on running the task

    kernel.execute("%%task tick\nticked = 41")
    out, error = kernel.execute(f"%flow run{words}")
    assert out.startswith("flow 'notebook': Success"), out + error
    assert kernel.execute("print(done)")[0].strip() == "42"
