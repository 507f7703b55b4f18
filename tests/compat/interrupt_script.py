"""A script that runs a flow until it is sent SIGINT, then prints what flow.run returned
and what an observer saw, as one JSON line (used by test_compat_interrupts)."""

from __future__ import annotations

import json
import os
import sys
import time

from jupyter_flows import Flow, LocalDaskExecutor, LocalExecutor, RunObserver, task


def ticking(path: str, n: int) -> int:
    """Python code: a tick every 50 ms, each an appended line."""
    for i in range(n):
        with open(path, "a") as f:
            f.write(f"{os.getpid()} {i}\n")
        time.sleep(0.05)
    return n


def stuck_in_c(path: str) -> str:
    """One long C call, which no Python-level interrupt can cut short."""
    with open(path, "a") as f:
        f.write("started\n")
    time.sleep(5)
    return "woke up"


class Seen(RunObserver):
    def __init__(self) -> None:
        self.events: list[tuple[str, int | None, str]] = []

    def task_state_changed(self, task, map_index, state):  # type: ignore[no-untyped-def]
        self.events.append((task.slug, map_index, state.name))


def main(kind: str, mode: str, ticks: str) -> None:
    executor = {"local": LocalExecutor(), "threads": LocalDaskExecutor("threads", num_workers=2),
                "processes": LocalDaskExecutor("processes", num_workers=2)}[kind]
    with Flow("interrupted") as flow:
        if mode == "stuck":
            first = task(stuck_in_c)(ticks)
        elif mode == "timed":
            first = task(ticking, timeout=60)(ticks, 2000)
        else:
            first = task(ticking)(ticks, 2000)
        task(ticking)(ticks + ".after", 1, upstream_tasks=[first])
    seen = Seen()
    state = flow.run(executor=executor, observers=[seen])
    returned = time.time()
    print(json.dumps({
        "flow": [state.name, state.message], "returned_at": returned,
        "tasks": {t.slug: [s.name, s.message] for t, s in state.result.items()},
        "events": seen.events,
    }), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
