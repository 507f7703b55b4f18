"""The ECS agent through unchanged boto3 against moto's server on 127.0.0.1: registering
task definitions (and reusing an unchanged one), run_task with the run's overrides and a
network inferred from moto's default VPC, watching tasks stop with a reason; and an ECSRun
end to end through a real backend (moto runs no code: the test stops the task)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_aws import CREDENTIALS, REGION, boto, client_options, moto_server, reset
from fake_claims import RecordingClient, agent_process, make_claim, wait_for

from jupyter_flows.agents.base import Exit, Launched, RunRefused
from jupyter_flows.agents.ecs import ECSAgent, stopped_outcome
from jupyter_flows.agents.ecs_task import (
    HASH_TAG,
    cpu_units,
    family_for,
    memory_mib,
    merge_run_task_kwargs,
)

ROLE = "arn:aws:iam::123456789012:role/flow-runner"
EXEC_ROLE = "arn:aws:iam::123456789012:role/ecs-execution"


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(moto: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh moto with cluster 'flows'; AWS credentials and endpoint in the environment
    (boto3 and s3fs both honour AWS_ENDPOINT_URL)."""
    reset(moto)
    for key, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": moto}.items():
        monkeypatch.setenv(key, value)
    boto("ecs", moto).create_cluster(clusterName="flows")
    return moto


def agent_for(aws: str, client: Any = None, **options: Any) -> ECSAgent:
    options.setdefault("cluster", "flows")
    return ECSAgent(client or RecordingClient(), aws_options=client_options(aws), **options)


def family_arns(aws: str, family: str) -> list[str]:
    return list(boto("ecs", aws).list_task_definitions(familyPrefix=family)
                ["taskDefinitionArns"])


def described(aws: str, arn: str) -> dict[str, Any]:
    response = boto("ecs", aws).describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return {**response["taskDefinition"], "tags": response.get("tags")}


def default_network(aws: str) -> dict[str, Any]:
    ec2 = boto("ec2", aws)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    group = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    return {"awsvpcConfiguration": {
        "subnets": sorted(s["SubnetId"] for s in subnets["Subnets"] if s["DefaultForAz"]),
        "securityGroups": [group["GroupId"]], "assignPublicIp": "ENABLED"}}


# ---------------------------------------------------------------- registration
def test_a_task_definition_is_registered_once_and_reused(aws: str) -> None:
    config = {"type": "ecs", "image": "ghcr.io/acme/flows:1", "cpu": "1 vCPU",
              "memory": "2 GB", "task_role_arn": ROLE, "execution_role_arn": EXEC_ROLE}
    agent = agent_for(aws)
    agent.launch(make_claim(config, flow_name="nightly etl"))
    agent.launch(make_claim(config, flow_name="nightly etl"))
    agent_for(aws).launch(make_claim(config, flow_name="nightly etl"))  # a fresh agent too
    family = "jupyter-flows-nightly-etl"
    [arn] = family_arns(aws, family)
    definition = described(aws, arn)
    assert definition["family"] == family
    assert definition["cpu"] == "1024" and definition["memory"] == "2048"
    assert definition["taskRoleArn"] == ROLE and definition["executionRoleArn"] == EXEC_ROLE
    assert definition["networkMode"] == "awsvpc"
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    [container] = definition["containerDefinitions"]
    assert container["name"] == "flow" and container["image"] == "ghcr.io/acme/flows:1"
    assert [t["key"] for t in definition["tags"]] == [HASH_TAG]
    assert len(boto("ecs", aws).list_tasks(cluster="flows")["taskArns"]) == 3


def test_a_changed_definition_gets_a_new_revision_and_an_old_one_is_found_again(
        aws: str) -> None:
    agent = agent_for(aws, image="python:3.11")
    small = {"type": "ecs", "memory": 1024}
    big = {"type": "ecs", "memory": 4096}
    agent.launch(make_claim(small, flow_name="etl"))
    agent.launch(make_claim(big, flow_name="etl"))
    agent_for(aws, image="python:3.11").launch(make_claim(small, flow_name="etl"))
    arns = family_arns(aws, "jupyter-flows-etl")
    assert [a.rsplit(":", 1)[1] for a in arns] == ["1", "2"]
    assert [described(aws, a)["memory"] for a in arns] == ["1024", "4096"]
    runs = boto("ecs", aws).describe_tasks(
        cluster="flows", tasks=boto("ecs", aws).list_tasks(cluster="flows")["taskArns"])
    assert sorted(t["taskDefinitionArn"][-1] for t in runs["tasks"]) == ["1", "1", "2"]


def test_env_and_command_travel_as_overrides_not_as_new_revisions(aws: str) -> None:
    agent = agent_for(aws, image="python:3.11", env={"TEAM": "data"})
    claim = make_claim({"type": "ecs", "env": {"STAGE": "prod"}})
    kwargs = agent.run_task_kwargs_for(claim)
    agent.launch(make_claim({"type": "ecs", "env": {"STAGE": "dev"}}))
    assert len(family_arns(aws, "jupyter-flows-etl-flow")) == 1
    [override] = kwargs["overrides"]["containerOverrides"]
    assert override["name"] == "flow"
    assert override["command"] == ["python", "-m", "jupyter_flows", "execute", "flow-run",
                                   claim.flow_run.id]
    env = {e["name"]: e["value"] for e in override["environment"]}
    assert env["TEAM"] == "data" and env["STAGE"] == "prod"
    assert env["JUPYTER_FLOWS_FLOW_RUN_ID"] == claim.flow_run.id
    assert env["JUPYTER_FLOWS_LEASE_ID"] == claim.lease.lease_id
    assert kwargs["cluster"] == "flows" and kwargs["launchType"] == "FARGATE"
    assert kwargs["startedBy"] == f"jupyter-flows:{claim.flow_run.id[:22]}"
    tags = {t["key"]: t["value"] for t in kwargs["tags"]}
    assert tags["jupyter-flows.io/flow-run-id"] == claim.flow_run.id


def test_a_registered_task_definition_arn_is_used_as_it_is(aws: str) -> None:
    ecs = boto("ecs", aws)
    arn = ecs.register_task_definition(
        family="custom", networkMode="bridge", containerDefinitions=[
            {"name": "main", "image": "ghcr.io/acme/custom:1", "cpu": 256, "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    agent = agent_for(aws, launch_type="EC2")
    claim = make_claim({"type": "ecs", "task_definition_arn": "custom:1", "cpu": 512,
                        "memory": "1 GB", "task_role_arn": ROLE})
    kwargs = agent.run_task_kwargs_for(claim)
    assert kwargs["taskDefinition"] == "custom:1" and kwargs["launchType"] == "EC2"
    assert "networkConfiguration" not in kwargs  # bridge networking needs none
    overrides = kwargs["overrides"]
    assert overrides["cpu"] == "512" and overrides["memory"] == "1024"
    assert overrides["taskRoleArn"] == ROLE
    assert overrides["containerOverrides"][0]["name"] == "main"
    assert family_arns(aws, "custom") == [arn]


def test_task_definitions_from_a_file_and_from_s3(aws: str, tmp_path: Path) -> None:
    definition = {"family": "from-file", "networkMode": "awsvpc", "cpu": "512",
                  "memory": "1024", "containerDefinitions": [
                      {"name": "flow", "image": "ghcr.io/acme/flows:2", "cpu": 512,
                       "memory": 1024, "environment": [{"name": "FROM", "value": "file"}]}]}
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(definition))
    s3 = boto("s3", aws)
    s3.create_bucket(Bucket="defs")
    s3.put_object(Bucket="defs", Key="task.yaml",
                  Body=yaml.safe_dump({**definition, "family": "from-s3"}).encode())
    agent = agent_for(aws)
    agent.launch(make_claim({"type": "ecs", "task_definition_path": str(path)}))
    agent.launch(make_claim({"type": "ecs", "task_definition_path": "s3://defs/task.yaml"}))
    for family in ("from-file", "from-s3"):
        [arn] = family_arns(aws, family)
        [container] = described(aws, arn)["containerDefinitions"]
        assert container["image"] == "ghcr.io/acme/flows:2"
        assert container["environment"] == [{"name": "FROM", "value": "file"}]


@pytest.mark.parametrize(("definition", "agent_image", "message"), [
    pytest.param({"family": "x", "containerDefinitions": [{"name": "flow"}]}, None,
                 "ECSRun.task_definition: container 'flow' has no image; set ECSRun.image or"
                 " an image in the task definition, start the ECS agent with --image, or give"
                 " ECSRun.task_definition_arn", id="neither image nor arn"),
    pytest.param({"family": "x"}, "python:3.11",
                 "ECSRun.task_definition: the task definition has no containerDefinitions",
                 id="no containers"),
    pytest.param({"containerDefinitions": [{"image": "python:3.11"}]}, None,
                 "ECSRun.task_definition: containerDefinitions[0] needs a name",
                 id="unnamed container"),
])
def test_bad_task_definitions_fail_the_run(aws: str, definition: dict[str, Any],
                                           agent_image: str | None, message: str) -> None:
    client = RecordingClient("Submitted")
    agent = agent_for(aws, client, image=agent_image)
    agent._start(make_claim({"type": "ecs", "task_definition": definition}))
    [(_, state, text)] = client.states
    assert state == "Failed" and text is not None and text.startswith(message)


def test_no_image_anywhere_is_refused_for_the_default_definition(aws: str) -> None:
    with pytest.raises(RunRefused, match="the default task definition: container 'flow' has"
                                         " no image"):
        agent_for(aws).launch(make_claim({"type": "universal"}))


# ---------------------------------------------------------------------- network
def test_the_network_is_inferred_from_the_default_vpc(aws: str) -> None:
    agent = agent_for(aws, image="python:3.11")
    kwargs = agent.run_task_kwargs_for(make_claim({"type": "ecs"}))
    assert kwargs["networkConfiguration"] == default_network(aws)
    assert len(kwargs["networkConfiguration"]["awsvpcConfiguration"]["subnets"]) >= 2


def test_given_subnets_get_their_vpcs_default_security_group(aws: str) -> None:
    subnet = default_network(aws)["awsvpcConfiguration"]["subnets"][0]
    agent = agent_for(aws, image="python:3.11", subnets=[subnet])
    network = agent.run_task_kwargs_for(make_claim({"type": "ecs"}))["networkConfiguration"]
    assert network == {"awsvpcConfiguration": {
        "subnets": [subnet],
        "securityGroups": default_network(aws)["awsvpcConfiguration"]["securityGroups"],
        "assignPublicIp": "DISABLED"}}


def test_a_region_without_a_default_vpc_is_a_clear_error(aws: str) -> None:
    class NoDefaultVpc:
        meta = type("Meta", (), {"region_name": "eu-north-1"})

        def describe_vpcs(self, **_: Any) -> dict[str, Any]:
            return {"Vpcs": []}

    agent = agent_for(aws, image="python:3.11", ec2_client=NoDefaultVpc())
    with pytest.raises(RunRefused, match=re.escape(
            "cannot choose a network for the ECS task: region eu-north-1 has no default VPC;"
            " start the ECS agent with --subnet and --security-group, or set"
            " networkConfiguration in ECSRun.run_task_kwargs")):
        agent.launch(make_claim({"type": "ecs"}))


def test_run_task_kwargs_are_merged_last(aws: str) -> None:
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
    agent = agent_for(aws, image="python:3.11",
                      run_task_kwargs={"platformVersion": "1.4.0", "propagateTags": "NONE"})
    claim = make_claim({"type": "ecs", "run_task_kwargs": {
        "networkConfiguration": network, "propagateTags": "TASK_DEFINITION",
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        "overrides": {"containerOverrides": [{"name": "flow", "environment": [
            {"name": "EXTRA", "value": "1"},
            {"name": "JUPYTER_FLOWS_FLOW_RUN_ID", "value": "hijacked"}]}]}}})
    kwargs = agent.run_task_kwargs_for(claim)
    assert kwargs["networkConfiguration"] == network  # not inferred
    assert kwargs["platformVersion"] == "1.4.0" and kwargs["propagateTags"] == "TASK_DEFINITION"
    assert "launchType" not in kwargs
    [override] = kwargs["overrides"]["containerOverrides"]
    env = {e["name"]: e["value"] for e in override["environment"]}
    assert env["EXTRA"] == "1" and env["JUPYTER_FLOWS_FLOW_RUN_ID"] == claim.flow_run.id
    assert override["command"][-1] == claim.flow_run.id


@pytest.mark.parametrize(("base", "extra", "expected"), [
    ({"a": 1}, None, {"a": 1}),
    ({"launchType": "FARGATE"}, {"capacityProviderStrategy": [1]},
     {"capacityProviderStrategy": [1]}),
    ({"capacityProviderStrategy": [1]}, {"launchType": "EC2"}, {"launchType": "EC2"}),
    ({"overrides": {"cpu": "1", "containerOverrides": [{"name": "flow", "command": ["x"]}]}},
     {"overrides": {"memory": "2", "containerOverrides": [
         {"name": "flow", "cpu": 5}, {"name": "side", "command": ["y"]}]}},
     {"overrides": {"cpu": "1", "memory": "2", "containerOverrides": [
         {"name": "flow", "command": ["x"], "cpu": 5}, {"name": "side", "command": ["y"]}]}}),
    ({"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["a"]}}},
     {"networkConfiguration": {"awsvpcConfiguration": {"securityGroups": ["s"]}}},
     {"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["a"],
                                                       "securityGroups": ["s"]}}}),
])
def test_merging_run_task_kwargs(base: dict[str, Any], extra: dict[str, Any] | None,
                                 expected: dict[str, Any]) -> None:
    assert merge_run_task_kwargs(base, extra) == expected


@pytest.mark.parametrize(("value", "units"), [(1024, 1024), ("1 vCPU", 1024),
                                              ("0.25 vcpu", 256), ("2vCPU", 2048)])
def test_cpu_units(value: Any, units: int) -> None:
    assert cpu_units(value) == units


@pytest.mark.parametrize(("value", "mib"), [(512, 512), ("2 GB", 2048), ("0.5GB", 512)])
def test_memory_mib(value: Any, mib: int) -> None:
    assert memory_mib(value) == mib


@pytest.mark.parametrize(("name", "family"), [("etl", "jupyter-flows-etl"),
                                              ("nightly etl: v2", "jupyter-flows-nightly-etl-v2"),
                                              ("!!!", "jupyter-flows-flow")])
def test_family_names(name: str, family: str) -> None:
    assert family_for(name) == family


def test_local_storage_is_refused_for_a_task(aws: str) -> None:
    with pytest.raises(RunRefused, match="an ECSRun cannot read"):
        agent_for(aws, image="python:3.11").launch(make_claim(
            {"type": "ecs"}, storage={"type": "local", "location": "/home/me/etl.flow"}))


# --------------------------------------------------------------------- watching
def test_a_task_stopped_with_a_reason_crashes_the_run_with_it(aws: str) -> None:
    client = RecordingClient("Running")
    agent = agent_for(aws, client, image="python:3.11")
    claim = make_claim({"type": "ecs"})
    handle = agent.launch(claim)
    agent.launched[claim.flow_run.id] = Launched(claim.flow_run.id, claim.lease.lease_id,
                                                 handle)
    agent._watch()
    agent._watch()
    assert agent.launched and client.log_text().count(": RUNNING") == 1
    boto("ecs", aws).stop_task(cluster="flows", task=handle.arn,
                               reason="CannotPullContainerError: pull image manifest has been"
                                      " retried 5 time(s): not found")
    agent._watch()
    assert not agent.launched
    [failure] = client.failures
    assert failure["message"].startswith(f"ECS task {handle.short} stopped")
    assert "CannotPullContainerError: pull image manifest has been retried" in \
        failure["message"]


def test_a_run_still_cancelling_after_the_grace_has_its_task_stopped(aws: str) -> None:
    client = RecordingClient("Cancelling")
    agent = agent_for(aws, client, image="python:3.11", cancel_grace=5)
    claim = make_claim({"type": "ecs"})
    handle = agent.launch(claim)
    agent.launched[claim.flow_run.id] = Launched(claim.flow_run.id, claim.lease.lease_id,
                                                 handle, kill_at=0.0)
    agent._watch()
    [task] = boto("ecs", aws).describe_tasks(cluster="flows", tasks=[handle.arn])["tasks"]
    assert task["stoppedReason"] == "flow run cancelled: killed after the grace period"
    for _ in range(3):
        if not agent.launched:
            break
        agent._watch()
    assert not agent.launched
    [failure] = client.failures
    assert failure["message"] == (f"killed by the ecs agent {agent.name!r}: still Cancelling "
                                  f"after 5 s grace")


@pytest.mark.parametrize(("task", "expected"), [
    pytest.param({"taskArn": "arn:t/abc", "stoppedReason": "Essential container in task exited",
                  "stopCode": "EssentialContainerExited", "containers": [
                      {"name": "flow", "exitCode": 137,
                       "reason": "OutOfMemoryError: Container killed due to memory usage"}]},
                 Exit(137, "ECS task abc stopped: Essential container in task exited;"
                           " container flow: OutOfMemoryError: Container killed due to memory"
                           " usage; stop code EssentialContainerExited"), id="oom"),
    pytest.param({"taskArn": "arn:t/abc", "stopCode": "TaskFailedToStart",
                  "stoppedReason": "CannotPullContainerError: ref not found",
                  "containers": [{"name": "flow"}]},
                 Exit(None, "ECS task abc stopped: CannotPullContainerError: ref not found;"
                            " stop code TaskFailedToStart"), id="pull"),
    pytest.param({"taskArn": "arn:t/abc", "stoppedReason": "Essential container in task exited",
                  "containers": [{"name": "side", "exitCode": 1},
                                 {"name": "flow", "exitCode": 0}]},
                 Exit(0, "ECS task abc stopped: Essential container in task exited"),
                 id="finished"),
])
def test_stopped_task_outcomes(task: dict[str, Any], expected: Exit) -> None:
    assert stopped_outcome(task, "flow") == expected


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from jupyter_flows.server.testing import running_server

    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url


@pytest.mark.slow
def test_an_ecs_run_end_to_end_crashes_with_the_stopped_reason(aws: str, backend: str,
                                                                tmp_path: Path) -> None:
    """The agent as a real ``jupyter-flows agent ecs start`` process."""
    import os

    from fake_claims import tiny_flow

    from jupyter_flows import S3, ECSRun
    from jupyter_flows.client.client import Client

    boto("s3", aws).create_bucket(Bucket="ecs-flows")
    client = Client(backend)
    flow = tiny_flow("ecs e2e", storage=S3(bucket="ecs-flows",
                                           client_options=client_options(aws)),
                     run_config=ECSRun(image="ghcr.io/acme/flows:1", cpu="0.5 vCPU",
                                       memory="1 GB", labels=["aws"]))
    record = flow.register(client=client)
    assert boto("s3", aws).list_objects_v2(Bucket="ecs-flows")["KeyCount"] == 1
    run = client.create_flow_run(record.id)
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": backend}  # with moto's endpoint
    args = ["ecs", "start", "--cluster", "flows", "--label", "aws", "--poll-wait", "0.3",
            "--region", REGION, "--name", "ecs-e2e"]
    ecs = boto("ecs", aws)
    with agent_process(args, env, tmp_path / "agent.log"):
        [task_arn] = wait_for(lambda: ecs.list_tasks(cluster="flows")["taskArns"], 30,
                              "the agent to run a task")
        assert client.get_flow_run(run.id).state == "Submitted"  # moto runs no code
        ecs.stop_task(cluster="flows", task=task_arn,
                      reason="OutOfMemoryError: Container killed due to memory usage")
        final = wait_for(lambda: (r := client.get_flow_run(run.id)).state == "Crashed" and r,
                         30, "the run to crash")
    assert "OutOfMemoryError: Container killed due to memory usage" in (
        final.state_message or ""), (tmp_path / "agent.log").read_text()
    assert final.agent_name == "ecs-e2e"
    task = ecs.describe_tasks(cluster="flows", tasks=[task_arn])["tasks"][0]
    definition = described(aws, task["taskDefinitionArn"])
    assert definition["cpu"] == "512" and definition["memory"] == "1024"
    env = {e["name"]: e["value"]
           for e in task["overrides"]["containerOverrides"][0]["environment"]}
    assert env["JUPYTER_FLOWS_FLOW_RUN_ID"] == run.id
    assert env["JUPYTER_FLOWS_BACKEND_URL"] == backend
    logs = [r.message for r in client.read_logs(run.id).items]
    assert any(m.endswith(": RUNNING") and m.startswith("[ecs agent] ECS task") for m in logs)
