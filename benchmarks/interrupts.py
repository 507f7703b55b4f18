"""Two costs of stopping task code: the time from Ctrl-C (SIGINT) to ``flow.run`` returning
Cancelled, and the extra time a task with a ``timeout`` pays to run in its own process.

    python benchmarks/interrupts.py

Prints markdown table rows: per executor, the median and worst of 5 interrupts of a script
whose task runs Python code (a tick every 50 ms); then the median time per attempt of a
trivial task with and without a timeout (20 runs, in-process executors).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPT = '''
import json, os, sys, time
from jupyter_flows import Flow, LocalDaskExecutor, LocalExecutor, task

def ticking(path, n):
    for i in range(n):
        with open(path, "a") as f:
            f.write("tick\\n")
        time.sleep(0.05)
    return n

if __name__ == "__main__":
    kind, ticks = sys.argv[1], sys.argv[2]
    executor = {"local": LocalExecutor(), "threads": LocalDaskExecutor("threads"),
                "processes": LocalDaskExecutor("processes")}[kind]
    with Flow("bench") as flow:
        task(ticking)(ticks, 100000)
    state = flow.run(executor=executor)
    print(json.dumps({"state": state.name, "at": time.time()}), flush=True)
'''

REPEATS = 5


def interrupt_once(script: str, kind: str, directory: str) -> float:
    ticks = os.path.join(directory, f"ticks-{kind}-{time.monotonic_ns()}")
    proc = subprocess.Popen([sys.executable, script, kind, ticks], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    while not (os.path.exists(ticks) and os.path.getsize(ticks)):
        time.sleep(0.02)
    time.sleep(0.3)
    sent = time.time()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["state"] == "Cancelled", result
    return float(result["at"]) - sent


def timed_attempt_cost(executor: object) -> tuple[float, float]:
    from jupyter_flows import Flow, task

    def one(timeout: float | None) -> float:
        with Flow("cost") as flow:
            t = task(lambda: 1, timeout=timeout)()
        started = time.perf_counter()
        assert flow.run(executor=executor, progress=False).result[t].result == 1
        return time.perf_counter() - started

    plain = statistics.median(one(None) for _ in range(20))
    timed = statistics.median(one(30) for _ in range(20))
    return plain, timed


def main() -> None:
    import logging

    from jupyter_flows import LocalDaskExecutor, LocalExecutor

    logging.getLogger("jupyter_flows").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as directory:
        script = os.path.join(directory, "interrupted.py")
        with open(script, "w") as f:
            f.write(SCRIPT)
        print("| executor | SIGINT to Cancelled, median (s) | worst of 5 (s) |")
        print("|---|---:|---:|")
        for kind in ("local", "threads", "processes"):
            times = [interrupt_once(script, kind, directory) for _ in range(REPEATS)]
            print(f"| {kind} | {statistics.median(times):.3f} | {max(times):.3f} |")
    print()
    print("| executor | run without timeout (s) | with timeout (s) | cost per timed attempt (s) |")
    print("|---|---:|---:|---:|")
    for name, executor in (("local", LocalExecutor()),
                           ("threads", LocalDaskExecutor("threads"))):
        plain, timed = timed_attempt_cost(executor)
        print(f"| {name} | {plain:.4f} | {timed:.4f} | {timed - plain:.4f} |")


if __name__ == "__main__":
    main()
