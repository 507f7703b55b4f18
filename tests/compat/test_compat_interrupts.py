"""Ctrl-C during ``flow.run()`` (the engine half of issue 13): a real script running a flow
is sent SIGINT. Prefect 1.x's flow.run returned a Cancelled state on interrupt; so does
this one: unfinished task runs become Cancelled, observers see it, and nothing of the
interrupted task keeps running. The time from SIGINT to Cancelled is measured in
benchmarks/interrupts.py, not asserted here."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("interrupt_script.py")


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > 0):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def interrupt(kind: str, mode: str, tmp_path: Path) -> tuple[dict, Path]:
    ticks = tmp_path / "ticks"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), kind, mode, str(ticks)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ticks)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1]), ticks


def _count(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize("kind", ["local", "threads", "processes"])
@pytest.mark.parametrize("mode", ["python", "timed"])
def test_sigint_cancels_the_run_and_stops_the_task(kind: str, mode: str, tmp_path) -> None:
    """SIGINT makes flow.run return Cancelled; the running task (Python code, or a timed
    task in its child process) and its downstream task are Cancelled, observers saw those
    states, and the task's ticks stop (no thread or process goes on running it)."""
    result, ticks = interrupt(kind, mode, tmp_path)
    assert result["flow"][0] == "Cancelled"
    assert result["flow"][1].startswith("interrupted (KeyboardInterrupt)")
    states = result["tasks"]
    assert states["ticking-1"] == ["Cancelled", "interrupted while running (KeyboardInterrupt)"]
    assert states["ticking-2"] == ["Cancelled", "not run: the flow run was interrupted"]
    cancelled = {slug for slug, _, name in result["events"] if name == "Cancelled"}
    assert cancelled == {"ticking-1", "ticking-2"}
    before = _count(ticks)
    time.sleep(0.5)
    assert _count(ticks) == before  # nothing is still ticking
    assert not Path(str(ticks) + ".after").exists()


def test_a_thread_stuck_in_c_code_is_reported(tmp_path) -> None:
    """A task inside one long C call (a 5 s time.sleep) on the threads executor cannot be
    stopped by Python: the run still ends Cancelled at once, and the task's state says its
    thread is still inside that call (the script exits when the call returns)."""
    result, _ = interrupt("threads", "stuck", tmp_path)
    assert result["flow"][0] == "Cancelled"
    name, message = result["tasks"]["stuck_in_c-1"]
    assert name == "Cancelled" and "inside a C call" in message
