"""Engine overhead against plain Dask, measured in the same run.

    python benchmarks/engine.py            # all shapes, N = 100, 1000, 10000
    python benchmarks/engine.py --quick    # N = 100, 1000

Each (shape, N, executor) runs in a fresh process: a warm-up, then the jupyter-flows flow
(peak RSS read right after it), then the same shape as a plain ``dask.delayed`` graph on the
same scheduler. Shapes: a linear chain, a wide fan-out into a reducer, and one task mapped
over N items produced at run time, then reduced. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import date

SHAPES = ("chain", "fanout", "map")
EXECUTORS = ("local", "local-dask-threads", "dask-localcluster")
PLAIN_BASELINE = {
    "local": "dask sync scheduler",
    "local-dask-threads": "dask threaded scheduler",
    "dask-localcluster": "dask on the same LocalCluster",
}


def inc(x: int) -> int:
    return x + 1


def noop(i: int) -> int:
    return i


def produce(n: int) -> list[int]:
    return list(range(n))


def total(xs: list[int]) -> int:
    return sum(xs)


def pick_inc(xs: list[int], i: int) -> int:
    return xs[i] + 1


def build_flow(shape: str, n: int):  # type: ignore[no-untyped-def]
    from jupyter_flows import Flow, task

    t_inc, t_noop, t_produce, t_total = task(inc), task(noop), task(produce), task(total)
    with Flow(f"{shape}-{n}") as flow:
        if shape == "chain":
            x = t_inc(0)
            for _ in range(n - 1):
                x = t_inc(x)
        elif shape == "fanout":
            t_total([t_noop(i) for i in range(n)])
        else:
            t_total(t_inc.map(t_produce(n)))
    return flow


def build_plain(shape: str, n: int):  # type: ignore[no-untyped-def]
    import dask

    d = dask.delayed
    if shape == "chain":
        x = d(inc, pure=False)(0)
        for _ in range(n - 1):
            x = d(inc, pure=False)(x)
        return x
    if shape == "fanout":
        return d(total, pure=False)([d(noop, pure=False)(i) for i in range(n)])
    items = d(produce, pure=False)(n)
    return d(total, pure=False)([d(pick_inc, pure=False)(items, i) for i in range(n)])


def measure(shape: str, n: int, executor: str) -> dict[str, float]:
    """Runs in the child process; prints its figures as JSON."""
    import dask

    from jupyter_flows import DaskExecutor, LocalDaskExecutor, LocalExecutor

    cluster = client = None
    if executor == "local":
        ours, plain_kwargs = LocalExecutor(), {"scheduler": "sync"}
    elif executor == "local-dask-threads":
        ours, plain_kwargs = LocalDaskExecutor(scheduler="threads", num_workers=2), {
            "scheduler": "threads", "num_workers": 2}
    else:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster, set_as_default=False)
        ours, plain_kwargs = DaskExecutor(address=cluster.scheduler_address), {}

    def run_ours(size: int) -> float:
        flow = build_flow(shape, size)
        started = time.perf_counter()
        state = flow.run(executor=ours, progress=False)
        elapsed = time.perf_counter() - started
        assert state.is_successful(), state
        return elapsed

    def run_plain(size: int) -> float:
        graph = build_plain(shape, size)
        started = time.perf_counter()
        if client is not None:
            client.compute(graph).result()
        else:
            dask.compute(graph, **plain_kwargs)
        return time.perf_counter() - started

    run_ours(10)
    run_plain(10)
    ours_s = run_ours(n)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    plain_s = run_plain(n)
    if client is not None:
        client.close()
        cluster.close()  # type: ignore[union-attr]
    return {"ours_s": ours_s, "plain_s": plain_s, "rss_mb": rss_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 100 and 1000 only")
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES))
    parser.add_argument("--executors", nargs="*", default=list(EXECUTORS))
    parser.add_argument("--child", nargs=3, metavar=("SHAPE", "N", "EXECUTOR"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        shape, n, executor = args.child
        print(json.dumps(measure(shape, int(n), executor)))
        return
    sizes = (100, 1000) if args.quick else (100, 1000, 10000)
    print(f"engine benchmark, {date.today()}, {platform.machine()}, Python "
          f"{platform.python_version()}, {_cpus()} CPUs\n")
    print("| shape | N | executor | ours (s) | µs/task | peak RSS (MB) | plain dask (s) |"
          " baseline | ours/plain |")
    print("|---|---:|---|---:|---:|---:|---:|---|---:|")
    for executor in args.executors:
        for shape in args.shapes:
            for n in sizes:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", shape, str(n), executor],
                    capture_output=True, text=True, check=False,
                )
                if out.returncode != 0:
                    print(f"| {shape} | {n} | {executor} | failed: "
                          f"{out.stderr.strip().splitlines()[-1:]} |||||")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                tasks = n + (1 if shape != "chain" else 0) + (1 if shape == "map" else 0)
                print(f"| {shape} | {n} | {executor} | {r['ours_s']:.3f} |"
                      f" {r['ours_s'] / tasks * 1e6:.0f} | {r['rss_mb']:.0f} |"
                      f" {r['plain_s']:.3f} | {PLAIN_BASELINE[executor]} |"
                      f" {r['ours_s'] / r['plain_s']:.2f} |", flush=True)


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
