"""Write the example notebooks from the cells below and execute them in place, so the
committed notebooks carry the outputs nbval compares against.

    .venv/bin/python scripts/make_notebooks.py [NAME ...]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent.parent / "notebooks"
IGNORE = "# NBVAL_IGNORE_OUTPUT\n"

QUIET = '''import logging

# flow runs log to stderr; this notebook keeps its output short
logging.getLogger("jupyter_flows").setLevel(logging.WARNING)'''

QUICKSTART = [
    ("md", """# Quickstart: flows in Python

A flow is a graph of tasks. Calling a `@task` function inside `with Flow(...)` does not run it:
it adds the task to the flow and records where its inputs come from."""),
    ("code", QUIET),
    ("code", '''from jupyter_flows import Flow, Parameter, task, unmapped


@task
def extract(n: int) -> list[int]:
    return list(range(1, n + 1))


@task
def transform(x: int, factor: int) -> int:
    return x * factor


@task
def load(values: list[int]) -> int:
    return sum(values)


with Flow("etl") as flow:
    n = Parameter("n", default=3)
    values = transform.map(extract(n), factor=unmapped(10))
    total = load(values)

[t.slug for t in flow.sorted_tasks()]'''),
    ("md", "`flow.run()` runs it here and returns the flow's state; `state.result[task]` is each task's state."),
    ("code", '''state = flow.run(parameters={"n": 4})
print(state)
print("total:", state.result[total].result)
print("mapped children:", [child.result for child in state.result[values].map_states])'''),
    ("md", "The DAG, coloured by the states of that run (graphviz; a text view when `dot` is missing):"),
    ("code", IGNORE + "flow.visualize(state)"),
    ("md", """## Retries, timeouts and signals

`max_retries` + `retry_delay` retry a failing task; `timeout` ends a hung one `TimedOut`
(and its retries still apply). Raising `SKIP`, `FAIL`, `RETRY` or `SUCCESS` sets the state yourself."""),
    ("code", '''from jupyter_flows import SKIP, get_run_context

attempts = []


@task(max_retries=2, retry_delay=0.1)
def flaky() -> str:
    attempts.append(get_run_context().run_count)
    if len(attempts) < 3:
        raise ConnectionError("the API is busy")
    return "ok"


@task
def maybe(x: int) -> int:
    if x % 2:
        raise SKIP(f"{x} is odd")
    return x


with Flow("signals") as f2:
    ok = flaky()
    picked = maybe.map([1, 2, 3, 4])

s2 = f2.run()
print(s2.result[ok], "after attempts", attempts)
print([c.name for c in s2.result[picked].map_states])'''),
    ("md", """## Branches and triggers

`case(task, value)` runs a block only when the task's result equals the value; `merge` picks the
branch that ran. Triggers decide whether a task runs given its upstream states."""),
    ("code", '''from jupyter_flows import case, merge, triggers


@task
def is_big(x: int) -> bool:
    return x > 100


@task
def say(text: str) -> str:
    return text


@task
def explode() -> None:
    raise RuntimeError("boom")


@task(trigger=triggers.all_finished)
def cleanup() -> str:
    return "cleaned up"


with Flow("branches") as f3:
    big = is_big(Parameter("x", default=5))
    with case(big, True):
        a = say("big")
    with case(big, False):
        b = say("small")
    chosen = merge(a, b)
    boom = explode()
    tidy = cleanup(upstream_tasks=[boom])

s3 = f3.run(parameters={"x": 500})
print(s3.result[chosen].result, "|", s3.result[b].name, "|", s3.result[boom].name, "->",
      s3.result[tidy].result)
print(s3.result[boom].message)'''),
    ("md", """## Caching

`cache_for` keeps a successful result; the next run uses it while the validator accepts it
(here: only while the inputs are the same)."""),
    ("code", '''from jupyter_flows import cache_validators

calls = []


@task(cache_for=3600, cache_validator=cache_validators.all_inputs)
def expensive(x: int) -> int:
    calls.append(x)
    return x ** 2


with Flow("cached") as f4:
    sq = expensive(Parameter("x", default=7))

print([f4.run(parameters={"x": x}).result[sq].name for x in (7, 7, 8)], "calls:", calls)'''),
    ("md", "## Mistakes get clear errors"),
    ("code", '''from jupyter_flows.errors import CycleError, ParameterError

a, b = say.copy(), say.copy()
with Flow("loop") as f5:
    f5.add_edge(a, b)
    f5.add_edge(b, a)
try:
    f5.run()
except CycleError as exc:
    print(exc)
try:
    flow.run(parameters={"m": 1})
except ParameterError as exc:
    print(exc)'''),
]

DASK = [
    ("md", """# Executors: the same flow on local Dask and on a Dask cluster

An executor decides how the tasks of one run execute. Executors are small JSON-able configs,
so the same flow can run in-process, on dask's local schedulers, or on any Dask cluster."""),
    ("code", QUIET),
    ("code", '''from jupyter_flows import DaskExecutor, Flow, LocalDaskExecutor, LocalExecutor, task


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    return x * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


with Flow("squares") as flow:
    result = total(square.map(numbers(100)))

for executor in (LocalExecutor(), LocalDaskExecutor(scheduler="threads", num_workers=2),
                 LocalDaskExecutor(scheduler="processes", num_workers=2)):
    state = flow.run(executor=executor)
    print(f"{executor.describe():<32} {state.name:<8} {state.result[result].result}")'''),
    ("md", """## A temporary LocalCluster, an existing cluster, any cluster class

`DaskExecutor()` with no address makes a LocalCluster for the run. With `address` it uses a
running scheduler; with `cluster_class` (an import path) any Dask deployment library works:
`dask_kubernetes.KubeCluster`, `dask_jobqueue.SLURMCluster`, ..."""),
    ("code", '''state = flow.run(executor=DaskExecutor(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1}))
print(state.name, state.result[result].result)'''),
    ("code", '''from distributed import LocalCluster

with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
    state = flow.run(executor=DaskExecutor(address=cluster.scheduler_address))
print(state.name, state.result[result].result)'''),
    ("code", '''adaptive = DaskExecutor(
    cluster_class="distributed.LocalCluster",
    cluster_kwargs={"n_workers": 0, "threads_per_worker": 1, "dashboard_address": ":0"},
    adapt_kwargs={"minimum": 1, "maximum": 2},
)
state = flow.run(executor=adaptive)
print(state.name, state.result[result].result)'''),
    ("md", "## Executors are JSON\n\nThey are stored with a flow, shown in forms, and overridden per run."),
    ("code", '''from jupyter_flows.executors import executor_from_config

text = adaptive.model_dump_json(exclude_none=True)
print(text)
print(executor_from_config(text) == adaptive)
print(sorted(DaskExecutor.model_json_schema()["properties"]))'''),
    ("code", '''from jupyter_flows.errors import ExecutorError

for bad in ({"type": "spark"}, {"type": "dask", "adress": "tcp://10.0.0.1:8786"}):
    try:
        executor_from_config(bad)
    except ExecutorError as exc:
        print(exc)'''),
]

BACKEND = [
    ("md", """# Backend and agent: register a flow, submit a run, watch it finish

`LocalBackend` starts the backend server (on a temporary SQLite file) and a local agent as
subprocesses of this kernel (the same launcher `jupyter-flows up` and JupyterLab use). With a
backend you already run (`jupyter-flows server start`), use `Client(url)` instead."""),
    ("code", QUIET),
    ("code", '''import os

from jupyter_flows.client import Client
from jupyter_flows.local_backend import LocalBackend

backend = LocalBackend(agent_name="notebook-agent").start()
os.environ.update(backend.env())  # %flow submit and Client() find it
client = Client(backend.url)
print(client.health().status)'''),
    ("md", "A flow whose functions live in this notebook: storing it pickles them by value, so the agent's fresh process can run it."),
    ("code", '''from jupyter_flows import Flow, LocalExecutor, LocalRun, Parameter, get_logger, task


@task
def greet(name: str) -> str:
    get_logger().info("greeting %s", name)
    return f"hello {name}"


@task
def shout(text: str) -> str:
    return text.upper()


with Flow("greeter", run_config=LocalRun(labels=[]), executor=LocalExecutor()) as flow:
    loud = shout(greet(Parameter("name", default="world")))

record = flow.register(project="notebooks", client=client)
print(record.name, "version", record.version)'''),
    ("code", '''import time

run = client.create_flow_run(record.id, parameters={"name": "jupyter"})
while client.get_flow_run(run.id).state not in ("Success", "Failed", "Crashed"):
    time.sleep(0.2)
finished = client.get_flow_run(run.id)
print(finished.state, "-", finished.state_message)
print([s.state for s in client.get_flow_run_states(run.id)])
print(sorted((t.task_slug, t.state) for t in client.get_task_runs(run.id)))
print([r.message for r in client.read_logs(run.id).items if "greeting" in r.message])'''),
    ("md", "A run whose labels no online agent has waits, and the backend says why:"),
    ("code", '''waiting = client.create_flow_run(record.id, labels=["gpu"])
print(client.get_flow_run(waiting.id).agent_match.explanation.replace(backend.url, "URL"))'''),
    ("md", """The same from notebook cells: `%flow submit` registers the notebook's task cells and
creates a run; `%flow status --watch` shows its DAG, coloured by task states as the agent
runs it, until it finishes."""),
    ("code", "%load_ext jupyter_flows"),
    ("code", '''%%task shout_cell
words = "cells run on agents too".upper()'''),
    ("code", "%flow submit"),
    ("code", "%flow status --watch --timeout 120", ["nbval-ignore-output"]),
    ("code", '''submitted = client.list_flow_runs(flow_name="notebook").items[0]
print(submitted.state, [t.state for t in client.get_task_runs(submitted.id)])'''),
    ("code", "backend.stop()"),
]

CONFIGS = [
    ("md", """# Run configs, storage and executors: mix and match

Three independent choices describe a deployed flow:

- a **run config**: *where* a flow run executes (a local process, a Docker container, a
  Kubernetes Job, an ECS task), with its environment and labels;
- an **executor**: *how* the tasks inside that run execute (in process, dask's local schedulers,
  any Dask cluster);
- a **storage**: *where* an agent finds the flow's code.

All three are small JSON-able models with no user code, so they can be stored by the backend,
shown in forms and overridden per run."""),
    ("code", QUIET),
    ("code", '''from jupyter_flows import (
    S3,
    DaskExecutor,
    ECSRun,
    Flow,
    KubernetesRun,
    LocalDaskExecutor,
    LocalRun,
    task,
)


@task
def hello() -> str:
    return "hello"


with Flow("configs") as flow:
    hello()

# a Kubernetes Job that runs its tasks on an adaptive Dask cluster in the same cluster
flow.run_config = KubernetesRun(image="ghcr.io/acme/etl:1.4", cpu_request="500m",
                                memory_request="2Gi", labels=["k8s", "prod"])
flow.executor = DaskExecutor(cluster_class="dask_kubernetes.KubeCluster",
                             cluster_kwargs={"n_workers": 2}, adapt_kwargs={"maximum": 10})
flow.storage = S3(bucket="acme-flows")
print(flow.run_config)
print(flow.executor.describe())'''),
    ("code", '''# the same flow on an ECS task with dask's threads, or as a local process on this machine
for run_config, executor in [
    (ECSRun(image="acme/etl:1.4", cpu="1 vCPU", memory="2 GB", labels=["ecs"]),
     LocalDaskExecutor(scheduler="threads", num_workers=4)),
    (LocalRun(working_dir="/tmp", env={"MODE": "dev"}), DaskExecutor()),
]:
    print(type(run_config).__name__, "+", executor.describe())'''),
    ("md", "## JSON in and out"),
    ("code", '''from jupyter_flows.run_configs import run_config_from_config, run_config_schema

text = flow.run_config.model_dump_json(exclude_none=True)
print(text)
print(run_config_from_config(text) == flow.run_config)
print(sorted(run_config_schema()["discriminator"]["mapping"]))'''),
    ("md", "Secrets in `env` stay in the config the agent receives, but are masked wherever a config is shown:"),
    ("code", '''secret = LocalRun(env={"DB_PASSWORD": "hunter2", "MODE": "prod"})
print(secret.public_dict()["env"])'''),
    ("md", "## Mistakes name the field and the rule"),
    ("code", '''from jupyter_flows.errors import RunConfigError

for bad in ({"type": "kubernetes", "memory_request": "4 gigs"},
            {"type": "ecs", "task_definition_arn": "nope", "task_definition_path": "td.yaml"},
            {"type": "nomad"}):
    try:
        run_config_from_config(bad)
    except RunConfigError as exc:
        print(exc)'''),
    ("md", """## The form

`flow_config_widget(flow)` draws a form for each model from its JSON schema: pick the types,
fill the fields, and Apply checks them and sets them on the flow (Submit registers the flow and
creates a run when a backend is reachable)."""),
    ("code", IGNORE + '''from jupyter_flows.widgets.config import flow_config_widget

widget = flow_config_widget(flow)
widget'''),
    ("md", "The same widget from code: choose Local + LocalDask, fill two fields, apply."),
    ("code", '''widget.run_config_type.value = "local"
widget.executor_type.value = "local-dask"
widget.run_config_form.set_value({"working_dir": "/tmp", "labels": ["dev"]})
widget.executor_form.set_value({"scheduler": "processes", "num_workers": 2})
run_config, executor = widget.apply()
print(flow.run_config)
print(flow.executor.describe(), flow.executor.num_workers)'''),
    ("code", '''widget.run_config_type.value = "kubernetes"
widget.run_config_form.set_value({"memory_request": "4 gigs"})
try:
    widget.apply()
except RunConfigError as exc:
    print("not applied:", exc)
print(widget.errors)'''),
]

CELLS = [
    ("md", """# Cells as tasks

Mark a cell `%%task NAME` and it becomes a task instead of running. Its inputs are the names
it reads that an earlier task cell defines; its outputs are the names it defines. Redefining a
name (`rows = clean(rows)`) is fine: a cell reads the nearest earlier definition."""),
    ("code", "%load_ext jupyter_flows\n\n" + QUIET),
    ("code", '''%%task load
rows = [
    {"city": "Oslo", "temp": 3.5},
    {"city": "Lima", "temp": None},
    {"city": "Pune", "temp": 31.0},
    {"city": "Kiev", "temp": -2.0},
]'''),
    ("code", '''%%task clean
rows = [r for r in rows if r["temp"] is not None]'''),
    ("code", '''%%task stats
mean_temp = sum(r["temperature"] for r in rows) / len(rows)'''),
    ("code", '''%%task report
report = f"{len(rows)} cities, mean {mean_temp:.1f} C"'''),
    ("md", "The DAG inferred from the names each cell reads and defines:"),
    ("code", IGNORE + "%flow show"),
    ("md", """Run it. `stats` has a bug: the failing task shows its traceback with the cell's own line
numbers, the cells before it still ran, and their outputs are back in the notebook. While a run
goes, the DAG above its summary changes colour as task states change (its output is updated in
place, which is why the example notebooks do not compare it)."""),
    ("code", "%flow run", ["raises-exception", "nbval-ignore-output"]),
    ("code", "view = %flow show\nprint(view.text())"),
    ("code", "print(len(rows), 'rows after clean')"),
    ("md", """Fix the cell and run again. `load` and `clean` did not change and neither did their
inputs, so they are `Cached`; `stats` and `report` run."""),
    ("code", '''%%task stats
mean_temp = sum(r["temp"] for r in rows) / len(rows)'''),
    ("code", "%flow run", ["nbval-ignore-output"]),
    ("code", "view = %flow show\nprint(view.text())"),
    ("code", "print(report)"),
    ("md", "Nothing changed: everything is cached. `--force` would run every cell again."),
    ("code", "%flow run", ["nbval-ignore-output"]),
    ("code", "view = %flow show\nprint(view.text())"),
    ("md", """The same cells run on Dask; `--executor dask ADDRESS` uses an existing cluster, and
`%flow submit` sends the flow to the backend, where an agent runs it."""),
    ("code", "%flow run --executor local-dask threads --force", ["nbval-ignore-output"]),
    ("code", "view = %flow show\nprint(view.text())"),
    ("code", "print(report)"),
]

SCHEDULES = [
    ("md", """# Schedules: run a notebook's task cells on a schedule

`%flow schedule` registers the notebook's task cells as a flow whose schedule the backend
runs: its scheduler makes each run once, at its time, and an agent runs it. Here every 10
seconds, on an embedded backend with a local agent, so that two runs finish quickly; a
real notebook would say `--cron "0 6 * * 1-5" --tz Europe/Berlin` (06:00 on weekdays) or
`--every 15m`. The JupyterLab panel shows the schedule and pauses it; the notebook toolbar's
"Schedule…" does what `%flow schedule` does."""),
    ("code", QUIET),
    ("code", '''import os

from jupyter_flows.client import Client
from jupyter_flows.local_backend import LocalBackend

# the scheduler looks every second here (10 s by default)
backend = LocalBackend(agent_name="schedule-agent", settings={"scheduler_interval": 1}).start()
os.environ.update(backend.env())  # %flow finds it
client = Client(backend.url)
print(client.health().status)'''),
    ("code", "%load_ext jupyter_flows"),
    ("code", '''%%task load
rows = list(range(10))'''),
    ("code", '''%%task total
total = sum(rows)
print("total", total)'''),
    ("md", "The schedule, and its next times (in the zone you give with `--tz`; UTC here):"),
    ("code", "%flow schedule --every 10s", ["nbval-ignore-output"]),
    ("code", '''flow_id = client.list_flows(name="notebook").items[0].id
shown = client.get_schedule(flow_id)
print(shown.description, "| active:", shown.active, "| runs made ahead:", shown.upcoming_runs > 0)'''),
    ("md", "Wait for two scheduled runs to finish:"),
    ("code", '''import time

deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    done = [run for run in client.list_flow_runs(flow_name="notebook", state="Success").items
            if run.auto_scheduled]
    if len(done) >= 2:
        break
    time.sleep(1)
print(len(done) >= 2, sorted({run.state for run in done}))
late = [(run.state_timestamp - run.scheduled_start).total_seconds() for run in done[:2]]
print("started after their time:", all(0 <= s < 60 for s in late))'''),
    ("md", "Pause it: the runs it made that have not started are deleted, and no more are made."),
    ("code", "%flow schedule --off"),
    ("code", '''print(client.get_schedule(flow_id).active,
      client.list_flow_runs(flow_name="notebook", upcoming=True).total)'''),
    ("code", "backend.stop()"),
]

RESTART = [
    ("md", """# Restart a failed run, and debug its task in the notebook

A flow run fails on an agent at its last step. Instead of running it all again:
`%flow debug RUN TASK` loads the failing task's real inputs (the agent's upstream results,
read back from their checkpoints) into this notebook and reopens its cell, so the failure
reproduces here; once the cause is fixed, `%flow restart` goes on from the failure under the
same run id, reusing what succeeded. Here on an embedded backend with a local agent; the
JupyterLab run view has the same "Restart from failure" button."""),
    ("code", QUIET),
    ("code", """import json
import os
import tempfile
import time
from pathlib import Path

from jupyter_flows.client import Client
from jupyter_flows.local_backend import LocalBackend

backend = LocalBackend(agent_name="debug-agent").start()
os.environ.update(backend.env())  # %flow finds it
client = Client(backend.url)

work = Path(tempfile.mkdtemp())
CONFIG = work / "limits.json"  # what the check reads: its limit is wrong for today's data
CONFIG.write_text(json.dumps({"max": 4}))
LOADS = work / "loads.log"  # one line each time the (slow, costly) load runs
deadline = time.monotonic() + 60
while not any(a.online for a in client.list_agents()) and time.monotonic() < deadline:
    time.sleep(0.2)  # the agent is up before the flow is submitted
print(client.health().status, [a.name for a in client.list_agents() if a.online])"""),
    ("code", "%load_ext jupyter_flows"),
    ("code", """%%task load
LOADS.open("a").write("loaded\\n")
rows = [1, 5, 3]"""),
    ("code", """%%task check
limit = json.loads(CONFIG.read_text())["max"]
over = [r for r in rows if r > limit]
if over:
    raise ValueError(f"rows over the limit {limit}: {over}")
total = sum(rows)
print("total", total)"""),
    ("md", "Submit the cells as a flow; the agent runs it, and `check` fails there:"),
    ("code", """%flow submit"""),
    ("code", """def finished(run_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get_flow_run(run_id)
        if run.state in ("Success", "Failed", "Crashed", "Cancelled"):
            return run
        time.sleep(0.5)
    raise TimeoutError(run_id)


run_id = client.list_flow_runs(flow_name="notebook").items[0].id
run = finished(run_id)
print(run.state, "|", run.state_message.splitlines()[0])"""),
    ("md", """Bring the failing task into the notebook, with the inputs it had on the agent. In
JupyterLab the cell opens below this one, ready to run; here the next cell is that cell's
code:"""),
    ("code", """rows = None  # not what the agent had: debug loads the agent's
%flow debug {run_id} check"""),
    ("code", """print(rows)  # the agent's value, from load's checkpoint"""),
    ("code", """limit = json.loads(CONFIG.read_text())["max"]
over = [r for r in rows if r > limit]
if over:
    raise ValueError(f"rows over the limit {limit}: {over}")""", ["raises-exception"]),
    ("md", """The failure reproduces: the limit is too low for today's rows. Fix the cause (here the
limit), then restart the run: `load` keeps its result, only `check` runs again."""),
    ("code", """CONFIG.write_text(json.dumps({"max": 10}))
%flow restart"""),
    ("code", """run = finished(run_id)
print(run.state, "| attempts:", run.run_count, "| load ran", len(LOADS.read_text().splitlines()), "time(s)")
print({t.task_slug: t.state for t in client.get_task_runs(run_id)})"""),
    ("code", """backend.stop()"""),
]

NOTEBOOKS = {"01-quickstart": QUICKSTART, "02-cells-as-tasks": CELLS,
             "03-run-configs-and-executors": CONFIGS, "04-executors-and-dask": DASK,
             "05-backend-and-agent": BACKEND, "06-schedules": SCHEDULES,
             "07-restart-and-debug": RESTART}


def build(name: str, cells: list[tuple[Any, ...]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = []
    for kind, src, *tags in cells:
        cell = (nbformat.v4.new_markdown_cell(src) if kind == "md"
                else nbformat.v4.new_code_cell(src))
        if tags:
            cell.metadata["tags"] = tags[0]
        nb.cells.append(cell)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_error_names=[],
                   allow_errors=True,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    path = HERE / f"{name}.ipynb"
    nbformat.write(nb, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    wanted = sys.argv[1:] or list(NOTEBOOKS)
    for name in wanted:
        build(name, NOTEBOOKS[name])
