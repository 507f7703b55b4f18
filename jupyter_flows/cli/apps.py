"""The command groups of ``jupyter-flows``; the command modules add their commands here.

Two fixes to typer's rich help, made once here for every group and command:

- a docstring's paragraph is one paragraph: rich mode keeps each source line break, so a
  sentence wrapped in the code broke mid-line in the help (markdown mode would join lines but
  squeezes the options table and cuts values like ``HOST:CONTAINER[:MODE]``);
- flags take no value, so their rows show no type (typer prints ``<bool>`` for every option,
  ``--help`` included).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption


def one_line_paragraphs(text: str | None) -> str | None:
    """Join the lines of each paragraph (paragraphs are separated by blank lines)."""
    if not text:
        return text
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text))
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


class _HelpFixes:
    help: str | None
    short_help: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = one_line_paragraphs(self.help)
        self.short_help = one_line_paragraphs(self.short_help)

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
                param.metavar = ""  # the type column shows the metavar when one is set
        return params


class Command(_HelpFixes, TyperCommand):
    pass


class Group(_HelpFixes, TyperGroup):
    pass


class App(typer.Typer):
    """A typer app whose groups and commands render help as described above."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("rich_markup_mode", "rich")
        kwargs.setdefault("no_args_is_help", True)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)


app = App(help="jupyter-flows: notebook cells and Python functions as workflows.",
          add_completion=False)
server_app = App(help="The backend server.")
agent_app = App(help="Agents that launch flow runs.")
execute_app = App(help="What agents launch.")
local_agent_app = App(help="The local agent (runs flows as subprocesses).")
docker_agent_app = App(help="The Docker agent (runs flows in containers).")
kubernetes_agent_app = App(help="The Kubernetes agent (runs flows as Jobs).")
ecs_agent_app = App(help="The ECS agent (runs flows as AWS ECS tasks).")
app.add_typer(server_app, name="server")
app.add_typer(agent_app, name="agent")
app.add_typer(execute_app, name="execute")
agent_app.add_typer(local_agent_app, name="local")
agent_app.add_typer(docker_agent_app, name="docker")
agent_app.add_typer(kubernetes_agent_app, name="kubernetes")
agent_app.add_typer(ecs_agent_app, name="ecs")
