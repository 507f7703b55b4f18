"""Interrupting ``%flow run`` in a real kernel (as JupyterLab's stop button does, through
the kernel manager): on every local executor the run ends Cancelled, the cell prints the
run's lines and no engine traceback, the task stops, and the kernel goes on working.
The time from interrupt to Cancelled is measured in benchmarks/interrupts.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kernel_support import Kernel, kernel_fixture  # noqa: F401 (the kernel fixture)

pytestmark = pytest.mark.slow

TICK = """%%task tick
import time
for step in range(1200):  # two minutes, in Python code
    with open(TICKS, "a") as marks:
        marks.write("tick\\n")
    time.sleep(0.1)
ticked = step"""
AFTER = "%%task after\ndone = ticked + 1"


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

    reply = kernel.execute(f"%flow run{words}", interrupt_when=marks)
    out, error = reply.text, reply.error
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
    reply = kernel.execute(f"%flow run{words}")
    out, error = reply.text, reply.error
    assert out.startswith("flow 'notebook': Success"), out + error
    assert kernel.execute("print(done)").text.strip() == "42"
