"""The flow the browser tests register: a parameter, a map, task logs, and a secret in its
run config (which must reach the browser masked)."""

import time

from jupyter_flows import Flow, LocalRun, Parameter, get_logger, task


@task
def numbers(n: int) -> list[int]:
    return list(range(1, n + 1))


@task
def double(x: int) -> int:
    get_logger().info("doubling %s", x)
    time.sleep(0.2)
    return 2 * x


@task
def total(values: list[int]) -> int:
    get_logger().info("total of %d values is %d", len(values), sum(values))
    return sum(values)


with Flow("lab-browser-demo",
          run_config=LocalRun(env={"API_TOKEN": "not-for-browsers", "MODE": "demo"})) as flow:
    n = Parameter("n", default=3)
    total(double.map(numbers(n)))


@task
def prepare() -> str:
    get_logger().info("preparing the input")
    return "input"


@task
def publish(prepared: str, marker: str) -> str:
    from pathlib import Path

    if not Path(marker).exists():
        raise RuntimeError(f"the upstream table is not there yet ({marker})")
    get_logger().info("published %s", prepared)
    return prepared


# fails until its marker file exists: the run view's "Restart from failure" goes on from it
with Flow("lab-browser-flaky") as flaky:
    publish(prepare(), Parameter("marker", default="/nonexistent"))
