"""The public names of each module users import (Prefect 1.x's paths among them), against a
committed table: a name added, renamed or dropped fails here until the table is updated on
purpose with ``python tests/test_public_names.py --update``."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

TABLE = Path(__file__).parent / "snapshots" / "public_names.json"

MODULES = [
    "jupyter_flows",
    "jupyter_flows.engine.signals",
    "jupyter_flows.engine.state",
    "jupyter_flows.engine.states",
    "jupyter_flows.executors",
    "jupyter_flows.run_configs",
    "jupyter_flows.schedules",
    "jupyter_flows.schedules.adjustments",
    "jupyter_flows.schedules.clocks",
    "jupyter_flows.schedules.filters",
    "jupyter_flows.signals",
    "jupyter_flows.storage",
    "jupyter_flows.tasks.control",
    "jupyter_flows.tasks.control_flow",
    "jupyter_flows.tasks.core.operators",
    "jupyter_flows.tasks.prefect",
    "jupyter_flows.triggers",
    "jupyter_flows.utilities.edges",
    "jupyter_flows.utilities.notifications",
    "jupyter_flows.utilities.tasks",
]

# What Prefect 1.x code imports from each path (a floor under the table above)
PREFECT_NAMES = {
    "jupyter_flows.signals": {"PAUSE", "LOOP", "TRIGGERFAIL", "VALIDATIONFAIL", "FAIL", "SKIP",
                              "RETRY", "SUCCESS"},
    "jupyter_flows.engine.signals": {"PAUSE", "LOOP", "TRIGGERFAIL", "VALIDATIONFAIL", "FAIL",
                                     "SKIP", "RETRY", "SUCCESS"},
    "jupyter_flows.executors": {"LocalExecutor", "LocalDaskExecutor", "DaskExecutor"},
    "jupyter_flows.run_configs": {"LocalRun", "DockerRun", "KubernetesRun", "ECSRun",
                                  "UniversalRun", "RunConfig"},
    "jupyter_flows.storage": {"Local", "S3", "Docker", "Git", "GitHub", "Storage"},
    "jupyter_flows.engine.state": {"State", "Pending", "Scheduled", "Retrying", "Paused",
                                   "Submitted", "Running", "Finished", "Success", "Cached",
                                   "Mapped", "Skipped", "Failed", "TriggerFailed", "TimedOut",
                                   "Cancelled"},
    "jupyter_flows.utilities.edges": {"unmapped", "flatten", "mapped"},
    "jupyter_flows.utilities.notifications": {"slack_notifier", "gmail_notifier"},
    "jupyter_flows.tasks.prefect": {"create_flow_run", "wait_for_flow_run",
                                    "get_task_run_result"},
    "jupyter_flows.schedules": {"Schedule", "IntervalSchedule", "CronSchedule",
                                "RRuleSchedule", "clocks", "filters", "adjustments"},
    "jupyter_flows.tasks.control_flow": {"switch", "ifelse", "merge", "case", "FilterTask"},
    "jupyter_flows.triggers": {"all_successful", "all_failed", "all_finished", "always_run",
                               "any_successful", "any_failed", "manual_only",
                               "not_all_skipped", "some_successful", "some_failed"},
}


def public_names() -> dict[str, list[str]]:
    return {name: sorted(importlib.import_module(name).__all__) for name in MODULES}


def test_the_exports_match_the_committed_table() -> None:
    committed = json.loads(TABLE.read_text())
    assert public_names() == committed, (
        "exports drifted from tests/snapshots/public_names.json; if that is intended, run "
        "`python tests/test_public_names.py --update` and commit the table")


@pytest.mark.parametrize("module", MODULES)
def test_each_export_exists_once(module: str) -> None:
    mod = importlib.import_module(module)
    assert len(mod.__all__) == len(set(mod.__all__)), module
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{module}.{name}"


@pytest.mark.parametrize("module", sorted(PREFECT_NAMES))
def test_prefect_paths_export_prefects_names(module: str) -> None:
    missing = PREFECT_NAMES[module] - set(importlib.import_module(module).__all__)
    assert not missing, f"{module} lacks {sorted(missing)}"


def test_both_state_paths_are_one_module_of_states() -> None:
    from jupyter_flows.engine import state, states

    for name in state.__all__:
        assert getattr(state, name) is getattr(states, name), name


def test_the_prefect_paths_import_without_heavy_dependencies() -> None:
    code = ("import sys\n"
            "for name in ['jupyter_flows.signals', 'jupyter_flows.engine.state', "
            "'jupyter_flows.triggers', 'jupyter_flows.utilities.edges', "
            "'jupyter_flows.tasks.control_flow', 'jupyter_flows.schedules']:\n"
            "    __import__(name)\n"
            "heavy = ['dask', 'distributed', 'IPython', 'ipywidgets', 'fastapi', 'httpx']\n"
            "print(','.join(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_public_names.py --update")
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text(json.dumps(public_names(), indent=2) + "\n")
    print(f"wrote {TABLE}")
