"""ECSAgent: runs each flow run as an AWS ECS task (ECSRun, UniversalRun).

For each claimed run it builds the task definition (``ecs_task``) and registers it unless
a revision with the same content (its ``jupyter-flows-hash`` tag) exists, or takes the
run config's ``task_definition_arn`` as it is; chooses the network (``run_task_kwargs``,
else the agent's subnets and security groups, else the region's default VPC: its subnets
and default security group); calls run_task with the run's command and environment as
container overrides; and watches the task with describe_tasks. A task that stops before
its run finished is reported on the run with ECS's reasons (stoppedReason, stopCode, the
container's reason: an image that cannot be pulled, an OOM kill) and exit code.

AWS access is boto3's: credentials and region from the environment or a profile;
``aws_options`` go to ``boto3.client`` (``region_name``, ``endpoint_url``).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from jupyter_flows.agents.base import Exit, RunRefused
from jupyter_flows.agents.containers import (
    REQUIRED_ENV,
    ContainerAgent,
    flow_run_command,
    read_document,
)
from jupyter_flows.agents.ecs_task import (
    HASH_TAG,
    build_task_definition,
    default_task_definition,
    definition_hash,
    family_for,
    flow_container,
    merge_run_task_kwargs,
    task_overrides,
)
from jupyter_flows.errors import AgentConfigError, LaunchError

if TYPE_CHECKING:
    from jupyter_flows.api import Claim

_log = logging.getLogger("jupyter_flows.agent.ecs")
LAUNCH_TYPES = ("FARGATE", "EC2", "EXTERNAL")
# how many newest revisions of a family are searched for one with the same content
SEARCHED_REVISIONS = 20
MISSING_POLLS = 3


class ECSAgent(ContainerAgent):
    """Launches flow runs as ECS tasks in one cluster."""

    type = "ecs"
    run_config_types = ("ecs", "universal")

    def __init__(self, *args: Any, cluster: str | None = None, launch_type: str | None = None,
                 capacity_provider: str | None = None,
                 task_definition: dict[str, Any] | None = None,
                 task_definition_path: str | None = None, task_role_arn: str | None = None,
                 execution_role_arn: str | None = None, cpu: int | str | None = None,
                 memory: int | str | None = None, subnets: list[str] | None = None,
                 security_groups: list[str] | None = None,
                 assign_public_ip: bool | None = None,
                 run_task_kwargs: dict[str, Any] | None = None,
                 aws_options: dict[str, Any] | None = None, ecs_client: Any = None,
                 ec2_client: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if launch_type and capacity_provider:
            raise AgentConfigError("ECSAgent: give a launch_type or a capacity_provider,"
                                   " not both")
        if launch_type is not None and launch_type.upper() not in LAUNCH_TYPES:
            raise AgentConfigError(f"ECSAgent.launch_type: expected one of"
                                   f" {', '.join(LAUNCH_TYPES)}, got {launch_type!r}")
        self.cluster = cluster
        self.launch_type = (launch_type or ("" if capacity_provider else "FARGATE")).upper()
        self.capacity_provider = capacity_provider
        if task_definition_path is not None:
            task_definition = read_document(task_definition_path, "the agent's task definition")
        self.task_definition = task_definition
        self.task_role_arn = task_role_arn
        self.execution_role_arn = execution_role_arn
        self.cpu = cpu
        self.memory = memory
        self.subnets = list(subnets or [])
        self.security_groups = list(security_groups or [])
        self.assign_public_ip = assign_public_ip
        self.run_task_kwargs = dict(run_task_kwargs or {})
        self.aws_options = dict(aws_options or {})
        self._ecs = ecs_client
        self._ec2 = ec2_client
        self._registered: dict[str, str] = {}  # content hash -> task definition ARN
        self._network: dict[str, Any] | None = None

    # ----------------------------------------------------------------- clients
    def _boto(self, service: str) -> Any:
        try:
            import boto3
        except ImportError:
            raise RunRefused("the ECS agent needs boto3: pip install 'jupyter-flows[aws]'"
                             ) from None
        return boto3.client(service, **self.aws_options)

    @property
    def ecs(self) -> Any:
        if self._ecs is None:
            self._ecs = self._boto("ecs")
        return self._ecs

    @property
    def ec2(self) -> Any:
        if self._ec2 is None:
            self._ec2 = self._boto("ec2")
        return self._ec2

    @property
    def fargate(self) -> bool:
        return self.launch_type == "FARGATE" or (self.capacity_provider or "").startswith(
            "FARGATE")

    # ---------------------------------------------------------- task definition
    def task_definition_for(self, claim: Claim) -> dict[str, Any]:
        """The task definition this run needs (not yet registered)."""
        run_config = self.run_config(claim)
        if run_config.get("task_definition") is not None:
            base, what = run_config["task_definition"], "ECSRun.task_definition"
        elif run_config.get("task_definition_path"):
            what = f"ECSRun.task_definition_path {run_config['task_definition_path']!r}"
            base = read_document(run_config["task_definition_path"],
                                 "ECSRun.task_definition_path")
        elif self.task_definition is not None:
            base, what = self.task_definition, "the agent's task definition"
        else:
            base = default_task_definition(family_for(claim.flow.name))
            what = "the default task definition"
        compatibility = "FARGATE" if self.fargate else ("EC2" if self.launch_type == "EC2"
                                                        else None)
        image = run_config.get("image") or _container_image(base) or self.image
        if (claim.flow.storage or {}).get("type") == "docker":  # the flow is in that image
            image = self.choose_image(claim, _container_image(base), field="ECSRun.image")
        return build_task_definition(
            base, what=what, family=family_for(claim.flow.name),
            image=image,
            cpu=run_config.get("cpu") or (None if _has(base, "cpu") else self.cpu),
            memory=run_config.get("memory") or (None if _has(base, "memory") else self.memory),
            task_role_arn=run_config.get("task_role_arn") or (
                None if _has(base, "taskRoleArn") else self.task_role_arn),
            execution_role_arn=run_config.get("execution_role_arn") or (
                None if _has(base, "executionRoleArn") else self.execution_role_arn),
            compatibility=compatibility)

    def register(self, definition: dict[str, Any]) -> str:
        """The ARN of a revision with this content: found by its hash tag, else new."""
        digest = definition_hash(definition)
        if digest in self._registered:
            return self._registered[digest]
        arn = self._find_revision(definition["family"], digest)
        if arn is None:
            response = self.ecs.register_task_definition(
                **definition, tags=[{"key": HASH_TAG, "value": digest}])
            arn = str(response["taskDefinition"]["taskDefinitionArn"])
            _log.info("registered task definition %s", arn)
        self._registered[digest] = arn
        return arn

    def _find_revision(self, family: str, digest: str) -> str | None:
        # one page, newest first: an older revision with this content is not worth the calls
        page = self.ecs.list_task_definitions(familyPrefix=family, status="ACTIVE",
                                              sort="DESC", maxResults=100)
        arns = [a for a in page.get("taskDefinitionArns") or []
                if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
        # whatever order the service answered in
        arns.sort(key=lambda a: int(a.rsplit(":", 1)[-1]), reverse=True)
        for arn in arns[:SEARCHED_REVISIONS]:
            described = self.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
            tags = {t.get("key"): t.get("value") for t in described.get("tags") or []}
            if tags.get(HASH_TAG) == digest:
                return arn
        return None

    # ------------------------------------------------------------------ network
    def network_configuration(self) -> dict[str, Any]:
        """The agent's subnets and security groups, else the default VPC's (cached)."""
        if self._network is not None:
            return self._network
        subnets, groups = list(self.subnets), list(self.security_groups)
        region = self.ec2.meta.region_name
        if not subnets:
            vpcs = self.ec2.describe_vpcs(
                Filters=[{"Name": "isDefault", "Values": ["true"]}]).get("Vpcs") or []
            if not vpcs:
                raise RunRefused(
                    f"cannot choose a network for the ECS task: region {region} has no"
                    " default VPC; start the ECS agent with --subnet and --security-group,"
                    " or set networkConfiguration in ECSRun.run_task_kwargs")
            vpc_id = vpcs[0]["VpcId"]
            found = self.ec2.describe_subnets(
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]).get("Subnets") or []
            preferred = [s for s in found if s.get("DefaultForAz")] or found
            subnets = sorted(s["SubnetId"] for s in preferred)
            if not subnets:
                raise RunRefused(
                    f"cannot choose a network for the ECS task: the default VPC {vpc_id} of"
                    f" {region} has no subnets; start the ECS agent with --subnet")
        else:
            vpc_id = self.ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
        if not groups:
            found = self.ec2.describe_security_groups(Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "group-name", "Values": ["default"]}]).get("SecurityGroups") or []
            if not found:
                raise RunRefused(
                    f"cannot choose a network for the ECS task: VPC {vpc_id} has no default"
                    " security group; start the ECS agent with --security-group")
            groups = [found[0]["GroupId"]]
        public = self.assign_public_ip if self.assign_public_ip is not None else (
            self.fargate and not self.subnets)
        config: dict[str, Any] = {"subnets": subnets, "securityGroups": groups}
        if self.fargate:  # only Fargate tasks take assignPublicIp
            config["assignPublicIp"] = "ENABLED" if public else "DISABLED"
        self._network = {"awsvpcConfiguration": config}
        return self._network

    # ------------------------------------------------------------------- launch
    def run_task_kwargs_for(self, claim: Claim) -> dict[str, Any]:
        """Everything run_task gets for this run (registering its task definition)."""
        run_config = self.run_config(claim)
        arn = run_config.get("task_definition_arn")
        if arn:
            described = self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
            container = flow_container(described)["name"]
            network_mode = described.get("networkMode")
            overrides = task_overrides(
                container, flow_run_command(claim.flow_run.id), self.env_for(claim),
                cpu=run_config.get("cpu"), memory=run_config.get("memory"),
                task_role_arn=run_config.get("task_role_arn"),
                execution_role_arn=run_config.get("execution_role_arn"))
        else:
            definition = self.task_definition_for(claim)
            arn = self.register(definition)
            container = flow_container(definition)["name"]
            network_mode = definition.get("networkMode")
            overrides = task_overrides(container, flow_run_command(claim.flow_run.id),
                                       self.env_for(claim))
        run = claim.flow_run
        kwargs: dict[str, Any] = {
            "taskDefinition": arn, "count": 1, "overrides": overrides,
            "startedBy": f"jupyter-flows:{run.id[:22]}",  # ECS allows 36 characters
            "tags": [{"key": k, "value": v}
                     for k, v in self.labels_for(claim).items()],
        }
        if self.cluster:
            kwargs["cluster"] = self.cluster
        if self.capacity_provider:
            kwargs["capacityProviderStrategy"] = [
                {"capacityProvider": self.capacity_provider, "weight": 1}]
        elif self.launch_type:
            kwargs["launchType"] = self.launch_type
        kwargs = merge_run_task_kwargs(kwargs, self.run_task_kwargs)
        kwargs = merge_run_task_kwargs(kwargs, run_config.get("run_task_kwargs"))
        _keep_required_env(kwargs, container, self.env_for(claim))
        if network_mode == "awsvpc" and "networkConfiguration" not in kwargs:
            kwargs["networkConfiguration"] = self.network_configuration()
        return kwargs

    def launch(self, claim: Claim) -> ECSTask:
        self.check_storage(claim)
        kwargs = self.run_task_kwargs_for(claim)
        container = kwargs["overrides"]["containerOverrides"][0]["name"]
        response = self.ecs.run_task(**kwargs)
        failures = response.get("failures") or []
        tasks = response.get("tasks") or []
        if failures or not tasks:
            detail = "; ".join(f"{f.get('reason')}{': ' + f['detail'] if f.get('detail') else ''}"
                               for f in failures) or "no task and no reason given"
            raise LaunchError(f"ECS did not start the task: {detail}")
        task_arn = str(tasks[0]["taskArn"])
        _log.info("flow run %s: ECS task %s started", claim.flow_run.id, task_arn)
        return ECSTask(self, claim.flow_run.id, kwargs.get("cluster"), task_arn, container)


class ECSTask:
    """The ECS task of one flow run; ``poll()`` asks describe_tasks."""

    def __init__(self, agent: ECSAgent, flow_run_id: str, cluster: str | None, arn: str,
                 container: str) -> None:
        self.agent = agent
        self.flow_run_id = flow_run_id
        self.cluster = cluster
        self.arn = arn
        self.container = container
        self.short = arn.rsplit("/", 1)[-1]
        self._missing = 0
        self._last_status: str | None = None

    def poll(self) -> Exit | None:
        kwargs: dict[str, Any] = {"tasks": [self.arn]}
        if self.cluster:
            kwargs["cluster"] = self.cluster
        response = self.agent.ecs.describe_tasks(**kwargs)
        tasks = response.get("tasks") or []
        if not tasks:
            self._missing += 1
            if self._missing >= MISSING_POLLS:
                failure = (response.get("failures") or [{}])[0]
                return Exit(None, f"ECS task {self.short} is gone"
                                  f" ({failure.get('reason') or 'not found'})")
            return None
        task = tasks[0]
        status = task.get("lastStatus")
        if status != self._last_status:
            self._last_status = status
            if status != "STOPPED":
                self.agent.platform_log(self.flow_run_id, f"ECS task {self.short}: {status}")
        if status != "STOPPED":
            return None
        return stopped_outcome(task, self.container)


    def kill_run(self) -> None:
        """After a cancel's grace: ``stop_task`` (ECS sends SIGTERM, then SIGKILL)."""
        kwargs: dict[str, Any] = {"task": self.arn, "reason": "flow run cancelled: killed "
                                  "after the grace period"}
        if self.cluster:
            kwargs["cluster"] = self.cluster
        self.agent.ecs.stop_task(**kwargs)


def stopped_outcome(task: dict[str, Any], container_name: str) -> Exit:
    """How a STOPPED task ended: its flow container's exit code, and ECS's reasons."""
    containers = task.get("containers") or []
    container = next((c for c in containers if c.get("name") == container_name),
                     containers[0] if containers else {})
    code = container.get("exitCode")
    code = int(code) if code is not None else None
    short = str(task.get("taskArn", "?")).rsplit("/", 1)[-1]
    parts = [task.get("stoppedReason")]
    if container.get("reason"):
        parts.append(f"container {container.get('name', container_name)}: {container['reason']}")
    if task.get("stopCode"):
        parts.append(f"stop code {task['stopCode']}")
    reasons = "; ".join(str(p) for p in parts if p)
    if code == 0 and not container.get("reason"):
        return Exit(0, f"ECS task {short} stopped: {reasons}" if reasons else None)
    return Exit(code, f"ECS task {short} stopped" + (f": {reasons}" if reasons else ""))


def _keep_required_env(kwargs: dict[str, Any], container: str, env: dict[str, str]) -> None:
    """run_task_kwargs may change anything but how the run reaches the backend."""
    for override in kwargs["overrides"].get("containerOverrides") or []:
        if override.get("name") != container:
            continue
        entries = {e["name"]: e for e in override.get("environment") or []}
        for name in REQUIRED_ENV & set(env):
            entries[name] = {"name": name, "value": env[name]}
        override["environment"] = list(entries.values())


def _container_image(definition: Any) -> str | None:
    try:
        image = flow_container(definition).get("image")
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return str(image) if image else None


def _has(definition: Any, key: str) -> bool:
    return isinstance(definition, dict) and definition.get(key) is not None


def load_run_task_kwargs(location: str) -> dict[str, Any]:
    """The agent's ``--run-task-kwargs``: a JSON object, or a YAML/JSON file path or URL."""
    text = location.strip()
    value = json.loads(text) if text.startswith("{") else read_document(
        location, "the agent's run_task_kwargs")
    if not isinstance(value, dict):
        raise AgentConfigError(f"ECSAgent.run_task_kwargs: {location!r} is not a mapping")
    return value
