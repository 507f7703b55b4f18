"""Registration refuses, before storing anything, what no agent could ever run."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_flows import ECSRun, Flow, KubernetesRun, Local, task
from jupyter_flows.errors import RunConfigError, StorageError


@task
def hello() -> str:
    return "hi"


@pytest.mark.parametrize("run_config", [KubernetesRun(image="python:3.11"),
                                        ECSRun(image="python:3.11")],
                         ids=["kubernetes", "ecs"])
def test_local_storage_with_a_remote_run_config_is_refused(tmp_path: Path, run_config) -> None:
    with Flow("remote", storage=Local(directory=str(tmp_path)), run_config=run_config) as flow:
        hello()
    with pytest.raises(StorageError) as info:
        flow.register()
    assert "flow 'remote'" in str(info.value) and "Local" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing was stored


def test_a_malformed_run_config_is_refused_naming_the_field(tmp_path: Path) -> None:
    with Flow("bad", storage=Local(directory=str(tmp_path)),
              run_config={"type": "kubernetes", "cpu_limit": "lots"}) as flow:
        hello()
    with pytest.raises(RunConfigError) as info:
        flow.register()
    assert "KubernetesRun.cpu_limit" in str(info.value)
    assert list(tmp_path.iterdir()) == []
