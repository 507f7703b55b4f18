"""The command groups of ``jupyter-flows``; the command modules add their commands here."""

from __future__ import annotations

import typer

app = typer.Typer(help="jupyter-flows: notebook cells and Python functions as workflows.",
                  no_args_is_help=True, add_completion=False)
server_app = typer.Typer(help="The backend server.", no_args_is_help=True)
agent_app = typer.Typer(help="Agents that launch flow runs.", no_args_is_help=True)
execute_app = typer.Typer(help="What agents launch.", no_args_is_help=True)
local_agent_app = typer.Typer(help="The local agent (runs flows as subprocesses).",
                              no_args_is_help=True)
docker_agent_app = typer.Typer(help="The Docker agent (runs flows in containers).",
                               no_args_is_help=True)
kubernetes_agent_app = typer.Typer(help="The Kubernetes agent (runs flows as Jobs).",
                                   no_args_is_help=True)
ecs_agent_app = typer.Typer(help="The ECS agent (runs flows as AWS ECS tasks).",
                            no_args_is_help=True)
app.add_typer(server_app, name="server")
app.add_typer(agent_app, name="agent")
app.add_typer(execute_app, name="execute")
agent_app.add_typer(local_agent_app, name="local")
agent_app.add_typer(docker_agent_app, name="docker")
agent_app.add_typer(kubernetes_agent_app, name="kubernetes")
agent_app.add_typer(ecs_agent_app, name="ecs")
