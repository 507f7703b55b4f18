"""The ``jupyter-flows`` command line: server, agents, registering and running flows."""

from __future__ import annotations

import json
import time
from typing import Any

import typer

app = typer.Typer(help="jupyter-flows: notebook cells and Python functions as workflows.",
                  no_args_is_help=True, add_completion=False)
server_app = typer.Typer(help="The backend server.", no_args_is_help=True)
agent_app = typer.Typer(help="Agents that launch flow runs.", no_args_is_help=True)
local_agent_app = typer.Typer(help="The local agent (runs flows as subprocesses).",
                              no_args_is_help=True)
execute_app = typer.Typer(help="What agents launch.", no_args_is_help=True)
app.add_typer(server_app, name="server")
app.add_typer(agent_app, name="agent")
agent_app.add_typer(local_agent_app, name="local")
app.add_typer(execute_app, name="execute")

FINISHED = {"Success", "Cached", "Mapped", "Skipped", "Failed", "TriggerFailed", "TimedOut",
            "Crashed", "Cancelled"}


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; values are JSON when they parse as JSON, else strings."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise _fail(f"--param expects KEY=VALUE, got {pair!r}", 2)
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


# ------------------------------------------------------------------------- server
@server_app.command("start")
def server_start(
    host: str = typer.Option(None, help="address to listen on (default 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default 4200)"),
    db: str = typer.Option(None, "--db", help="database URL (default: a SQLite file in "
                                              "~/.jupyter-flows)"),
    api_key: str = typer.Option(None, envvar="JUPYTER_FLOWS_API_KEY",
                                help="require this bearer key on every API request"),
) -> None:
    """Run the backend server (FastAPI; SQLite by default, PostgreSQL by URL)."""
    from jupyter_flows.errors import ServerConfigError
    from jupyter_flows.server.app import serve
    from jupyter_flows.server.settings import Settings

    settings = Settings.from_env(host=host, port=port, database_url=db, api_key=api_key)
    try:
        serve(settings)
    except ServerConfigError as exc:
        raise _fail(str(exc), 2) from None


# -------------------------------------------------------------------------- agents
@local_agent_app.command("start")
def local_agent_start(
    label: list[str] = typer.Option([], "--label", "-l", help="a label this agent offers"),
    name: str = typer.Option(None, help="agent name (default: host and pid)"),
    env: list[str] = typer.Option([], "--env", "-e", help="KEY=VALUE given to every run"),
    max_runs: int = typer.Option(None, help="exit after launching this many runs"),
    log_dir: str = typer.Option(None, help="write each run's output to DIR/RUN_ID.log"),
    poll_wait: float = typer.Option(10.0, help="seconds each claim long-polls"),
    concurrency: int = typer.Option(None, help="most runs at once (default: 2 per CPU)"),
) -> None:
    """Claim runs whose labels match and run each as a local subprocess."""
    import logging

    from jupyter_flows.agents.local import LocalAgent

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s - %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise
    agent_env = {}
    for pair in env:
        key, sep, value = pair.partition("=")
        if not sep:
            raise _fail(f"--env expects KEY=VALUE, got {pair!r}", 2)
        agent_env[key] = value
    agent = LocalAgent(name=name, labels=label, env=agent_env, max_runs=max_runs,
                       log_dir=log_dir, poll_wait=poll_wait, concurrency=concurrency)
    agent.run()


# ---------------------------------------------------------------- container agents
docker_agent_app = typer.Typer(help="The Docker agent (runs flows in containers).",
                               no_args_is_help=True)
kubernetes_agent_app = typer.Typer(help="The Kubernetes agent (runs flows as Jobs).",
                                   no_args_is_help=True)
ecs_agent_app = typer.Typer(help="The ECS agent (runs flows as AWS ECS tasks).",
                            no_args_is_help=True)
agent_app.add_typer(docker_agent_app, name="docker")
agent_app.add_typer(kubernetes_agent_app, name="kubernetes")
agent_app.add_typer(ecs_agent_app, name="ecs")


def _env_pairs(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _fail(f"--env expects KEY=VALUE, got {pair!r}", 2)
        env[key] = value
    return env


def _run_agent(make: Any) -> None:
    """Build an agent with ``make()`` (a bad option is an error message, not a traceback)
    and run it until stopped."""
    import logging

    from jupyter_flows.errors import JupyterFlowsError

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s - %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise
    try:
        agent = make()
    except (JupyterFlowsError, ValueError) as exc:
        raise _fail(str(exc), 2) from None
    agent.run()


@docker_agent_app.command("start")
def docker_agent_start(
    label: list[str] = typer.Option([], "--label", "-l", help="a label this agent offers"),
    name: str = typer.Option(None, help="agent name (default: host and pid)"),
    env: list[str] = typer.Option([], "--env", "-e", help="KEY=VALUE given to every run"),
    image: str = typer.Option(None, help="image for runs whose run config names none"),
    base_url: str = typer.Option(None, help="Docker Engine URL (default: DOCKER_HOST or the "
                                            "local socket)"),
    volume: list[str] = typer.Option([], "--volume", "-v", help="HOST:CONTAINER[:MODE] "
                                                                "mounted into every run"),
    network: list[str] = typer.Option([], "--network", help="a network every run joins"),
    pull: str = typer.Option("if-not-present", help="always | if-not-present | never"),
    registry: list[str] = typer.Option([], "--registry", help="only run images from this "
                                       "registry (repeatable; * wildcards; docker.io = Hub)"),
    keep_containers: bool = typer.Option(False, help="keep finished containers"),
    run_backend_url: str = typer.Option(None, help="backend URL given to runs (default: the "
                                                   "agent's)"),
    max_runs: int = typer.Option(None, help="exit after launching this many runs"),
    poll_wait: float = typer.Option(10.0, help="seconds each claim long-polls"),
    concurrency: int = typer.Option(None, help="most runs at once (default: 2 per CPU)"),
) -> None:
    """Claim runs whose labels match and run each in a Docker container."""
    from jupyter_flows.agents.docker import DockerAgent

    def make() -> DockerAgent:
        agent = DockerAgent(
            name=name, labels=label, env=_env_pairs(env), max_runs=max_runs,
            poll_wait=poll_wait, concurrency=concurrency, image=image,
            run_backend_url=run_backend_url, base_url=base_url, volumes=volume,
            networks=network, pull_policy=pull, registries=registry,
            remove=not keep_containers)
        agent.docker  # noqa: B018 - no Docker Engine is an error now, not on the first run
        return agent

    _run_agent(make)


@kubernetes_agent_app.command("start")
def kubernetes_agent_start(
    namespace: str = typer.Option("default", help="namespace the Jobs are created in"),
    label: list[str] = typer.Option([], "--label", "-l", help="a label this agent offers"),
    name: str = typer.Option(None, help="agent name (default: host and pid)"),
    env: list[str] = typer.Option([], "--env", "-e", help="KEY=VALUE given to every run"),
    image: str = typer.Option(None, help="image for runs whose run config names none"),
    job_template: str = typer.Option(None, help="default Job template: a YAML file or URL"),
    service_account: str = typer.Option(None, help="default service account of run pods"),
    image_pull_secret: list[str] = typer.Option([], "--image-pull-secret",
                                                help="default image pull secret"),
    kubeconfig: str = typer.Option(None, help="kubeconfig file (default: in-cluster config, "
                                              "else KUBECONFIG or ~/.kube/config)"),
    context: str = typer.Option(None, help="kubeconfig context"),
    keep_jobs: bool = typer.Option(False, help="keep finished Jobs"),
    pending_timeout: float = typer.Option(600.0, help="fail a run whose pod has not started "
                                                      "after this many seconds"),
    run_backend_url: str = typer.Option(None, help="backend URL given to runs (default: the "
                                                   "agent's)"),
    max_runs: int = typer.Option(None, help="exit after launching this many runs"),
    poll_wait: float = typer.Option(10.0, help="seconds each claim long-polls"),
    concurrency: int = typer.Option(None, help="most runs at once (default: 2 per CPU)"),
) -> None:
    """Claim runs whose labels match and run each as a Kubernetes Job."""
    from jupyter_flows.agents.kubernetes import KubernetesAgent

    def make() -> KubernetesAgent:
        agent = KubernetesAgent(
            name=name, labels=label, env=_env_pairs(env), max_runs=max_runs,
            poll_wait=poll_wait, concurrency=concurrency, image=image,
            run_backend_url=run_backend_url, namespace=namespace,
            job_template_path=job_template, service_account_name=service_account,
            image_pull_secrets=image_pull_secret, kubeconfig=kubeconfig, context=context,
            delete_jobs=not keep_jobs, pending_timeout=pending_timeout)
        agent.api_client  # noqa: B018 - a missing kubeconfig is an error now
        return agent

    _run_agent(make)


@kubernetes_agent_app.command("install")
def kubernetes_agent_install(
    namespace: str = typer.Option("default", help="namespace of the agent and its Jobs"),
    image: str = typer.Option(None, help="image for runs whose run config names none"),
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
    (pipe to ``kubectl apply -f -``)."""
    from jupyter_flows.agents.kubernetes_install import install_yaml

    if not (agent_image or image):
        raise _fail("install needs --agent-image (or --image): an image with "
                    "jupyter-flows[kubernetes] installed", 2)
    if not backend_url:
        raise _fail("install needs --backend-url (or JUPYTER_FLOWS_BACKEND_URL): the "
                    "backend as seen from the cluster", 2)
    typer.echo(install_yaml(namespace=namespace, agent_image=agent_image or image,
                            image=image, backend_url=backend_url,
                            api_key_secret=api_key_secret, labels=label, name=name,
                            image_pull_secrets=image_pull_secret, env=_env_pairs(env)),
               nl=False)


@ecs_agent_app.command("start")
def ecs_agent_start(
    cluster: str = typer.Option(None, help="ECS cluster (default: the account's default)"),
    label: list[str] = typer.Option([], "--label", "-l", help="a label this agent offers"),
    name: str = typer.Option(None, help="agent name (default: host and pid)"),
    env: list[str] = typer.Option([], "--env", "-e", help="KEY=VALUE given to every run"),
    image: str = typer.Option(None, help="image for runs whose run config names none"),
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
    run_backend_url: str = typer.Option(None, help="backend URL given to runs (default: the "
                                                   "agent's)"),
    max_runs: int = typer.Option(None, help="exit after launching this many runs"),
    poll_wait: float = typer.Option(10.0, help="seconds each claim long-polls"),
    concurrency: int = typer.Option(None, help="most runs at once (default: 2 per CPU)"),
) -> None:
    """Claim runs whose labels match and run each as an ECS task."""
    from jupyter_flows.agents.ecs import ECSAgent, load_run_task_kwargs

    def number(value: str | None) -> int | str | None:
        return int(value) if value is not None and value.isdigit() else value

    _run_agent(lambda: ECSAgent(
        name=name, labels=label, env=_env_pairs(env), max_runs=max_runs, poll_wait=poll_wait,
        concurrency=concurrency, image=image, run_backend_url=run_backend_url,
        cluster=cluster, launch_type=launch_type, capacity_provider=capacity_provider,
        task_definition_path=task_definition, task_role_arn=task_role_arn,
        execution_role_arn=execution_role_arn, cpu=number(cpu), memory=number(memory),
        subnets=subnet, security_groups=security_group, assign_public_ip=assign_public_ip,
        run_task_kwargs=load_run_task_kwargs(run_task_kwargs) if run_task_kwargs else None,
        aws_options={"region_name": region} if region else None))


# ---------------------------------------------------------------- flows and runs
@app.command()
def register(
    path: str = typer.Argument(..., help="a Python script that builds one or more flows"),
    project: str = typer.Option("default", help="project to register into"),
    flow_name: list[str] = typer.Option([], "--name", "-n", help="only these flows"),
) -> None:
    """Register the flows a script builds (their code is stored as the script)."""
    from jupyter_flows.errors import JupyterFlowsError
    from jupyter_flows.scripts import flows_in_script
    from jupyter_flows.storage.local import Local

    try:
        flows = flows_in_script(path)
    except JupyterFlowsError as exc:
        raise _fail(str(exc)) from None
    if flow_name:
        flows = [f for f in flows if f.name in flow_name]
    if not flows:
        raise _fail(f"{path} builds no flow{' named ' + ', '.join(flow_name) if flow_name else ''}")
    for flow in flows:
        if flow.storage is None:
            flow.storage = Local(stored_as_script=True, path=path)
        try:
            record = flow.register(project=project)
        except JupyterFlowsError as exc:
            raise _fail(f"flow {flow.name!r}: {exc}") from None
        status = "new version" if record.is_new else "unchanged"
        typer.echo(f"flow {record.name!r} version {record.version} ({status}), id {record.id}")


@app.command()
def run(
    name: str = typer.Argument(..., help="the registered flow's name"),
    param: list[str] = typer.Option([], "--param", "-p", help="KEY=VALUE (JSON values)"),
    project: str = typer.Option(None, help="the flow's project"),
    label: list[str] = typer.Option(None, "--label", "-l", help="override the run's labels"),
    watch: bool = typer.Option(False, "--watch", "-w", help="stream states and logs until "
                                                            "the run ends"),
    idempotency_key: str = typer.Option(None, help="create at most one run for this key"),
) -> None:
    """Create a run of a registered flow; with --watch, exit non-zero unless it succeeds."""
    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    client = Client()
    try:
        created = client.create_flow_run(flow_name=name, project=project,
                                         parameters=_parse_params(param), labels=label or None,
                                         idempotency_key=idempotency_key)
        typer.echo(f"flow run {created.id} of {name!r} is {created.state}")
        found = client.get_flow_run(created.id)
        if found.agent_match is not None and not found.agent_match.matched:
            typer.secho(f"warning: {found.agent_match.explanation}", fg=typer.colors.YELLOW)
        if watch:
            raise typer.Exit(watch_run(client, created.id))
    except JupyterFlowsError as exc:
        raise _fail(str(exc)) from None


def watch_run(client: Any, flow_run_id: str, poll: float = 0.5) -> int:
    """Print state changes and logs of a run until it finishes; 0 if it succeeded."""
    seen_state = None
    after = 0
    while True:
        run_ = client.get_flow_run(flow_run_id)
        page = client.read_logs(flow_run_id, after=after)
        for record in page.items:
            typer.echo(f"  {record.timestamp:%H:%M:%S} {record.level:<7} {record.message}")
        after = page.next_after
        if run_.state != seen_state:
            seen_state = run_.state
            typer.echo(f"{run_.state}: {run_.state_message or ''}".rstrip(": "))
        if run_.state in FINISHED:
            return 0 if run_.state in {"Success", "Cached", "Mapped", "Skipped"} else 1
        time.sleep(poll)


@execute_app.command("flow-run")
def execute_flow_run_command(flow_run_id: str = typer.Argument(...)) -> None:
    """Run one backend flow run in this process (agents launch this)."""
    from jupyter_flows.errors import JupyterFlowsError
    from jupyter_flows.execution import execute_flow_run

    try:
        code = execute_flow_run(flow_run_id)
    except JupyterFlowsError as exc:
        raise _fail(f"flow run {flow_run_id}: {exc}", 2) from None
    raise typer.Exit(code)


@app.command()
def get(
    what: str = typer.Argument(..., help="flows | runs | logs | agents"),
    flow_run_id: str = typer.Argument(None, help="the run, for logs"),
    limit: int = typer.Option(50),
) -> None:
    """List what the backend has."""
    from rich.console import Console
    from rich.table import Table

    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    client = Client()
    console = Console()
    try:
        if what == "flows":
            table = Table("name", "project", "version", "id", "labels")
            for f in client.list_flows(limit=limit).items:
                table.add_row(f.name, f.project, str(f.version), f.id, ",".join(f.labels))
        elif what == "runs":
            table = Table("id", "flow", "state", "message", "labels")
            for r in client.list_flow_runs(limit=limit).items:
                table.add_row(r.id, r.flow_name, r.state, r.state_message or "",
                              ",".join(r.labels))
        elif what == "agents":
            table = Table("id", "name", "type", "labels", "online")
            for a in client.list_agents():
                table.add_row(a.id, a.name, a.type, ",".join(a.labels), str(a.online))
        elif what == "logs":
            if not flow_run_id:
                raise _fail("get logs needs a flow run id", 2)
            for record in client.read_logs(flow_run_id, limit=limit).items:
                console.print(f"{record.timestamp:%H:%M:%S} {record.level:<7} {record.message}",
                              markup=False)
            return
        else:
            raise _fail(f"get: expected flows, runs, logs or agents, got {what!r}", 2)
    except JupyterFlowsError as exc:
        raise _fail(str(exc)) from None
    console.print(table)


# ------------------------------------------------------------------------- demos
@app.command()
def demo(
    n: int = typer.Option(12, help="how many records the demo flow processes"),
    executor: str = typer.Option("dask", help="local | local-dask | dask"),
) -> None:
    """Run the demo flow in this process (on a temporary local Dask cluster by default)."""
    from rich.console import Console

    from jupyter_flows.demo import build_demo_flow, state_table
    from jupyter_flows.executors.base import executor_from_config

    console = Console()
    flow = build_demo_flow()
    config: dict[str, object] = {"type": executor}
    if executor == "dask":
        config["cluster_kwargs"] = {"n_workers": 2, "threads_per_worker": 1}
    chosen = executor_from_config(config)
    console.print(f"running flow [bold]{flow.name}[/bold] on {chosen.describe()} ...")
    state = flow.run(parameters={"n": n}, executor=chosen, progress=True)
    console.print(state_table(flow, state))
    raise typer.Exit(0 if state.is_successful() else 1)


@app.command()
def up(
    port: int = typer.Option(4200, help="backend port"),
    db: str = typer.Option(None, "--db", help="database URL (default: SQLite file)"),
    exit_after_demo: bool = typer.Option(False, help="stop everything after the demo run"),
    lab: bool = typer.Option(False, help="also start JupyterLab, its panel on this backend"),
    notebook_dir: str = typer.Option(None, help="JupyterLab's folder (default: here)"),
    lab_port: int = typer.Option(8888, help="JupyterLab's port"),
) -> None:
    """Start the embedded backend and a local agent, run the demo flow through them, and
    optionally JupyterLab with the flows panel."""
    from pathlib import Path

    from jupyter_flows.up import run_up

    raise typer.Exit(run_up(port=port, database_url=db, exit_after_demo=exit_after_demo,
                            lab=lab, notebook_dir=Path(notebook_dir) if notebook_dir else None,
                            lab_port=lab_port))


@app.command()
def version() -> None:
    """Print the installed version."""
    from jupyter_flows import __version__

    typer.echo(__version__)


def main() -> None:
    app(prog_name="jupyter-flows")


if __name__ == "__main__":
    main()
