"""Run configs as Prefect 1.x documents them: a local job template or task definition is
read when the config is made; remote ones (s3://, gcs://, agent:///) are read on the agent;
ECS task roles may be given by name."""

from __future__ import annotations

import pytest

from jupyter_flows import ECSRun, KubernetesRun
from jupyter_flows.agents.containers import read_document
from jupyter_flows.errors import RunConfigError

JOB = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: flow\n"
TASK_DEFINITION = "family: flows\ncontainerDefinitions:\n  - name: flow\n    image: x\n"


@pytest.mark.parametrize("form", ["plain", "file", "local"])
def test_a_local_job_template_is_read_when_the_config_is_made(tmp_path, form) -> None:
    """KubernetesRun reads a local ``job_template_path`` (no scheme, file:// or local://)
    at initialization and stores it as ``job_template``."""
    path = tmp_path / "job.yaml"
    path.write_text(JOB)
    location = {"plain": str(path), "file": f"file://{path}", "local": f"local://{path}"}[form]
    config = KubernetesRun(job_template_path=location)
    assert config.job_template == {"apiVersion": "batch/v1", "kind": "Job",
                                   "metadata": {"name": "flow"}}
    assert config.job_template_path is None
    path.unlink()  # the config no longer needs the file
    again = KubernetesRun.model_validate(config.model_dump())
    assert again.job_template == config.job_template


@pytest.mark.parametrize("location", ["s3://bucket/job.yaml", "gcs://bucket/job.yaml",
                                      "agent:///etc/flows/job.yaml"])
def test_remote_job_templates_are_left_for_the_agent(location) -> None:
    """Other schemes stay paths, read by the agent when it launches the run."""
    config = KubernetesRun(job_template_path=location)
    assert (config.job_template_path, config.job_template) == (location, None)


def test_the_agent_reads_an_agent_path(tmp_path) -> None:
    """``agent:///path`` names a file on the agent's machine, which the agent reads."""
    path = tmp_path / "job.yaml"
    path.write_text(JOB)
    assert read_document(f"agent://{path}", "KubernetesRun.job_template_path")["kind"] == "Job"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "KubernetesRun.job_template_path: no file at .* write agent:///",
                     id="missing"),
        pytest.param("kind: [Job", "KubernetesRun.job_template_path: .* is not valid YAML at "
                     "line 1", id="bad-yaml"),
        pytest.param("- a\n- b\n", "must hold a YAML mapping, got list", id="not-a-mapping"),
    ],
)
def test_a_bad_local_job_template_is_refused_naming_the_field(tmp_path, content,
                                                              message) -> None:
    path = tmp_path / "job.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(RunConfigError, match=message):
        KubernetesRun(job_template_path=str(path))


def test_a_stored_config_keeps_its_path() -> None:
    """Validating stored JSON (on the backend or an agent) never reads local files."""
    config = KubernetesRun.model_validate({"type": "kubernetes",
                                           "job_template_path": "/nowhere/job.yaml"})
    assert config.job_template_path == "/nowhere/job.yaml"


def test_a_local_task_definition_is_read_when_the_config_is_made(tmp_path) -> None:
    """ECSRun reads a local ``task_definition_path`` into ``task_definition``."""
    path = tmp_path / "task.yaml"
    path.write_text(TASK_DEFINITION)
    config = ECSRun(task_definition_path=str(path))
    assert config.task_definition == {"family": "flows", "containerDefinitions": [
        {"name": "flow", "image": "x"}]}
    assert config.task_definition_path is None
    kept = ECSRun(task_definition_path="s3://bucket/task.yaml")
    assert kept.task_definition_path == "s3://bucket/task.yaml"
    with pytest.raises(RunConfigError, match=r"ECSRun\.task_definition_path: expected"
                                             r" task_definition or task_definition_path"):
        ECSRun(task_definition_path=str(path), task_definition={"family": "x"})


def test_ecs_task_roles_by_name_or_arn() -> None:
    """``task_role_arn`` takes "the name or full ARN" of the role, as ECS does; the
    execution role stays an ARN."""
    assert ECSRun(task_role_arn="my-task-role").task_role_arn == "my-task-role"
    arn = "arn:aws:iam::123456789012:role/my-task-role"
    assert ECSRun(task_role_arn=arn).task_role_arn == arn
    with pytest.raises(RunConfigError, match=r"ECSRun\.execution_role_arn: expected an IAM"):
        ECSRun(execution_role_arn="my-execution-role")
