"""Benchmark of the real Docker Engine the tests use: the first-run image build and the
time per container start.

    .venv/bin/python benchmarks/containers.py [--starts 10] [--cold]

Starts our own ``dockerd`` (``tests/docker_engine.py``) and measures:

* with ``--cold``, the cost a fresh machine (CI) pays once, in an empty cache folder:
  debootstrap + ``docker import`` + save of the base image, the wheelhouse download and the
  build of the repository's Dockerfile on it, and the save of the result;
* the cost of a later test session on the same machine (the warm cache): load the saved
  images and build with them as the layer cache;
* per container start, p50/p95 over ``--starts`` runs: ``containers.run`` of ``true``
  (create, start, wait, remove) on the host network, and of ``python -m jupyter_flows
  --help`` (the interpreter and the CLI loading, which every flow run pays too).

Prints a markdown table. Must run as root (dockerd).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _timed(call: object) -> float:
    start = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - start


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--cold", action="store_true",
                        help="also measure the first run, in an empty cache folder")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    if args.cold:
        with tempfile.TemporaryDirectory(prefix="jf-cold-cache-") as cache:
            os.environ["JUPYTER_FLOWS_TEST_CACHE"] = cache
            import docker_engine as cold

            cold.CACHE = Path(cache)
            with cold.running_engine() as engine:
                base = _timed(lambda: cold.base_image(engine))
                image = _timed(lambda: cold.project_image(engine))
            rows.append(("first run: debootstrap base image (import + save)", f"{base:.1f} s"))
            rows.append(("first run: wheelhouse + Dockerfile build + save", f"{image:.1f} s"))
        os.environ.pop("JUPYTER_FLOWS_TEST_CACHE")
    import docker_engine

    docker_engine.CACHE = Path(os.environ.get(
        "JUPYTER_FLOWS_TEST_CACHE", "~/.cache/jupyter-flows-test")).expanduser()
    with docker_engine.running_engine() as engine:
        docker_engine.project_image(engine)  # fill the cache if it is empty
    with docker_engine.running_engine() as engine:
        warm = _timed(lambda: docker_engine.project_image(engine))
        tag = docker_engine.project_image(engine)
        rows.append(("later session: load cached images + cached build", f"{warm:.1f} s"))
        client = engine.client
        for label, command in (("true", ["true"]),
                               ("python -m jupyter_flows --help",
                                ["python", "-m", "jupyter_flows", "--help"])):
            client.containers.run(tag, command, remove=True, network_mode="host")  # warm-up
            times = [_timed(lambda c=command: client.containers.run(  # type: ignore[misc]
                tag, c, remove=True, network_mode="host")) for _ in range(args.starts)]
            rows.append((f"container run of `{label}` ({args.starts} runs)",
                         _percentiles(times)))
    print("| measure | result |\n| --- | --- |")
    for measure, result in rows:
        print(f"| {measure} | {result} |")


if __name__ == "__main__":
    main()
