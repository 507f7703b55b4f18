"""What the commands share: error exits, ``KEY=VALUE`` parsing, the agents' common options."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

Labels = Annotated[list[str], typer.Option("--label", "-l", help="a label this agent offers")]
AgentName = Annotated[str | None, typer.Option(help="agent name (default: host and pid)")]
EnvPairs = Annotated[list[str], typer.Option("--env", "-e",
                                             help="KEY=VALUE given to every run")]
MaxRuns = Annotated[int | None, typer.Option(help="exit after launching this many runs")]
PollWait = Annotated[float, typer.Option(help="seconds each claim long-polls")]
Concurrency = Annotated[int | None,
                        typer.Option(help="most runs at once (default: 2 per CPU)")]
CancelGrace = Annotated[float, typer.Option(
    min=0, help="seconds a cancelled run may take to stop before the agent kills it")]
Image = Annotated[str | None, typer.Option(help="image for runs whose run config names none")]
RunBackendUrl = Annotated[str | None, typer.Option(help="backend URL given to runs (default: "
                                                        "the agent's)")]


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; values are JSON when they parse as JSON, else strings."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise fail(f"--param expects KEY=VALUE, got {pair!r}", 2)
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def env_pairs(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail(f"--env expects KEY=VALUE, got {pair!r}", 2)
        env[key] = value
    return env


def run_agent(make: Any) -> None:
    """Build an agent with ``make()`` (a bad option is an error message, not a traceback)
    and run it until stopped."""
    import logging

    from jupyter_flows.errors import JupyterFlowsError

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s - %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise
    try:
        agent = make()
    except (JupyterFlowsError, ValueError) as exc:
        raise fail(str(exc), 2) from None
    try:
        agent.run()
    except JupyterFlowsError as exc:  # a wrong key, a backend that never answered
        raise fail(f"agent {agent.name!r} stopped: {exc}") from None


