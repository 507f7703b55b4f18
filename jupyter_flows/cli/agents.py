"""``jupyter-flows agent local|docker|kubernetes|ecs start`` and ``agent kubernetes install``."""

from __future__ import annotations

import typer

from jupyter_flows.cli.apps import (
    docker_agent_app,
    ecs_agent_app,
    kubernetes_agent_app,
    local_agent_app,
)
from jupyter_flows.cli.common import (
    AgentName,
    CancelGrace,
    Concurrency,
    EnvPairs,
    Image,
    Labels,
    MaxRuns,
    PollWait,
    RunBackendUrl,
    env_pairs,
    fail,
    run_agent,
)


@local_agent_app.command("start")
def local_agent_start(
    label: Labels = [],
    name: AgentName = None,
    env: EnvPairs = [],
    max_runs: MaxRuns = None,
    log_dir: str = typer.Option(None, help="write each run's output to DIR/RUN_ID.log"),
    poll_wait: PollWait = 10.0,
    concurrency: Concurrency = None,
    cancel_grace: CancelGrace = 30.0,
    warm_start: bool = typer.Option(
        False, "--warm-start/--no-warm-start",
        help="fork each run's process from a pre-imported forkserver (starts in a fraction "
             "of the time; a run whose PYTHON*/LD_* variables differ gets a fresh one)"),
) -> None:
    """Claim runs whose labels match and run each as a local subprocess."""
    from jupyter_flows.agents.local import LocalAgent

    run_agent(lambda: LocalAgent(name=name, labels=label, env=env_pairs(env),
                                 max_runs=max_runs, log_dir=log_dir, poll_wait=poll_wait,
                                 concurrency=concurrency, cancel_grace=cancel_grace,
                                 warm_start=warm_start))


@docker_agent_app.command("start")
def docker_agent_start(
    label: Labels = [],
    name: AgentName = None,
    env: EnvPairs = [],
    image: Image = None,
    base_url: str = typer.Option(None, help="Docker Engine URL (default: DOCKER_HOST or the "
                                            "local socket)"),
    volume: list[str] = typer.Option([], "--volume", "-v", help="HOST:CONTAINER[:MODE] "
                                                                "mounted into every run"),
    network: list[str] = typer.Option([], "--network", help="a network every run joins"),
    pull: str = typer.Option("if-not-present", help="always | if-not-present | never"),
    registry: list[str] = typer.Option([], "--registry", help="only run images from this "
                                       "registry (repeatable; * wildcards; docker.io = Hub)"),
    keep_containers: bool = typer.Option(False, "--keep-containers",
                                         help="keep finished containers"),
    run_backend_url: RunBackendUrl = None,
    max_runs: MaxRuns = None,
    poll_wait: PollWait = 10.0,
    concurrency: Concurrency = None,
    cancel_grace: CancelGrace = 30.0,
) -> None:
    """Claim runs whose labels match and run each in a Docker container."""
    from jupyter_flows.agents.docker import DockerAgent

    def make() -> DockerAgent:
        agent = DockerAgent(
            name=name, labels=label, env=env_pairs(env), max_runs=max_runs,
            poll_wait=poll_wait, concurrency=concurrency, cancel_grace=cancel_grace, image=image,
            run_backend_url=run_backend_url, base_url=base_url, volumes=volume,
            networks=network, pull_policy=pull, registries=registry,
            remove=not keep_containers)
        agent.docker  # noqa: B018 - no Docker Engine is an error now, not on the first run
        return agent

    run_agent(make)


@kubernetes_agent_app.command("start")
def kubernetes_agent_start(
    namespace: str = typer.Option("default", help="namespace the Jobs are created in"),
    label: Labels = [],
    name: AgentName = None,
    env: EnvPairs = [],
    image: Image = None,
    job_template: str = typer.Option(None, help="default Job template: a YAML file or URL"),
    service_account: str = typer.Option(None, help="default service account of run pods"),
    image_pull_secret: list[str] = typer.Option([], "--image-pull-secret",
                                                help="default image pull secret"),
    kubeconfig: str = typer.Option(None, help="kubeconfig file (default: in-cluster config, "
                                              "else KUBECONFIG or ~/.kube/config)"),
    context: str = typer.Option(None, help="kubeconfig context"),
    keep_jobs: bool = typer.Option(False, "--keep-jobs", help="keep finished Jobs"),
    pending_timeout: float = typer.Option(600.0, help="fail a run whose pod has not started "
                                                      "after this many seconds"),
    run_backend_url: RunBackendUrl = None,
    max_runs: MaxRuns = None,
    poll_wait: PollWait = 10.0,
    concurrency: Concurrency = None,
    cancel_grace: CancelGrace = 30.0,
) -> None:
    """Claim runs whose labels match and run each as a Kubernetes Job."""
    from jupyter_flows.agents.kubernetes import KubernetesAgent

    def make() -> KubernetesAgent:
        agent = KubernetesAgent(
            name=name, labels=label, env=env_pairs(env), max_runs=max_runs,
            poll_wait=poll_wait, concurrency=concurrency, cancel_grace=cancel_grace, image=image,
            run_backend_url=run_backend_url, namespace=namespace,
            job_template_path=job_template, service_account_name=service_account,
            image_pull_secrets=image_pull_secret, kubeconfig=kubeconfig, context=context,
            delete_jobs=not keep_jobs, pending_timeout=pending_timeout)
        agent.api_client  # noqa: B018 - a missing kubeconfig is an error now
        return agent

    run_agent(make)


@kubernetes_agent_app.command("install")
def kubernetes_agent_install(
    namespace: str = typer.Option("default", help="namespace of the agent and its Jobs"),
    image: Image = None,
    agent_image: str = typer.Option(None, help="image of the agent itself, with "
                                               "jupyter-flows[kubernetes] (default: --image)"),
    backend_url: str = typer.Option(None, envvar="JUPYTER_FLOWS_BACKEND_URL",
                                    help="backend URL as seen from the cluster"),
    api_key_secret: str = typer.Option(None, help="Secret whose 'api-key' is the API key"),
    label: list[str] = typer.Option([], "--label", "-l", help="a label the agent offers"),
    name: str = typer.Option("jupyter-flows-agent", help="name of the agent's resources"),
    image_pull_secret: list[str] = typer.Option([], "--image-pull-secret",
                                                help="secret to pull the agent image"),
    env: list[str] = typer.Option([], "--env", "-e", help="KEY=VALUE for the agent"),
) -> None:
    """Print the Deployment and RBAC manifests that run the agent in a cluster
    (pipe them to: kubectl apply -f -)."""
    from jupyter_flows.agents.kubernetes_install import install_yaml

    if not (agent_image or image):
        raise fail("install needs --agent-image (or --image): an image with "
                    "jupyter-flows[kubernetes] installed", 2)
    if not backend_url:
        raise fail("install needs --backend-url (or JUPYTER_FLOWS_BACKEND_URL): the "
                    "backend as seen from the cluster", 2)
    typer.echo(install_yaml(namespace=namespace, agent_image=agent_image or image,
                            image=image, backend_url=backend_url,
                            api_key_secret=api_key_secret, labels=label, name=name,
                            image_pull_secrets=image_pull_secret, env=env_pairs(env)),
               nl=False)


@ecs_agent_app.command("start")
def ecs_agent_start(
    cluster: str = typer.Option(None, help="ECS cluster (default: the account's default)"),
    label: Labels = [],
    name: AgentName = None,
    env: EnvPairs = [],
    image: Image = None,
    launch_type: str = typer.Option(None, help="FARGATE (default) | EC2 | EXTERNAL"),
    capacity_provider: str = typer.Option(None, help="capacity provider instead of a "
                                                     "launch type"),
    task_definition: str = typer.Option(None, help="default task definition: a YAML/JSON "
                                                   "file or URL"),
    task_role_arn: str = typer.Option(None, help="default task role"),
    execution_role_arn: str = typer.Option(None, help="default execution role"),
    cpu: str = typer.Option(None, help="default task CPU (1024, '1 vCPU')"),
    memory: str = typer.Option(None, help="default task memory (2048, '2 GB')"),
    subnet: list[str] = typer.Option([], "--subnet", help="subnet for tasks (default: the "
                                                          "default VPC's)"),
    security_group: list[str] = typer.Option([], "--security-group",
                                             help="security group for tasks"),
    assign_public_ip: bool = typer.Option(None, "--assign-public-ip/--no-public-ip",
                                          help="give Fargate tasks a public IP"),
    run_task_kwargs: str = typer.Option(None, help="extra run_task arguments: JSON, or a "
                                                   "YAML/JSON file or URL"),
    region: str = typer.Option(None, help="AWS region (default: the environment's)"),
    run_backend_url: RunBackendUrl = None,
    max_runs: MaxRuns = None,
    poll_wait: PollWait = 10.0,
    concurrency: Concurrency = None,
    cancel_grace: CancelGrace = 30.0,
) -> None:
    """Claim runs whose labels match and run each as an ECS task."""
    from jupyter_flows.agents.ecs import ECSAgent, load_run_task_kwargs

    def number(value: str | None) -> int | str | None:
        return int(value) if value is not None and value.isdigit() else value

    run_agent(lambda: ECSAgent(
        name=name, labels=label, env=env_pairs(env), max_runs=max_runs, poll_wait=poll_wait,
        concurrency=concurrency, cancel_grace=cancel_grace, image=image,
        run_backend_url=run_backend_url,
        cluster=cluster, launch_type=launch_type, capacity_provider=capacity_provider,
        task_definition_path=task_definition, task_role_arn=task_role_arn,
        execution_role_arn=execution_role_arn, cpu=number(cpu), memory=number(memory),
        subnets=subnet, security_groups=security_group, assign_public_ip=assign_public_ip,
        run_task_kwargs=load_run_task_kwargs(run_task_kwargs) if run_task_kwargs else None,
        aws_options={"region_name": region} if region else None))


