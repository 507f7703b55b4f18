"""The argument parsers of the ``%%task`` and ``%flow`` magics (argparse, IPython-friendly)."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import NoReturn

from IPython.core.error import UsageError

__all__ = ["Done", "MagicParser", "flow_parser", "parse_line", "split_line", "task_parser"]


class Done(Exception):
    """``--help`` was printed: nothing else to do."""


class MagicParser(argparse.ArgumentParser):
    """argparse for magics: errors are UsageErrors, ``--help`` does not exit the kernel."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message, file=sys.stderr)
        raise Done


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a count >= 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def task_parser() -> MagicParser:
    parser = MagicParser(prog="%%task", description="Register this cell as a task of a flow.")
    parser.add_argument("name", nargs="?", help="the task's name (default: cell-N, N the "
                        "cell's execution count); give it first")
    parser.add_argument("--flow", default=None, help="the flow (default: named after the"
                        " notebook's file, or 'notebook' when the kernel does not know it)")
    parser.add_argument("--retries", type=_count, default=0, metavar="N")
    parser.add_argument("--retry-delay", type=_seconds, default=0.0, metavar="S")
    parser.add_argument("--timeout", type=_positive_seconds, default=None, metavar="S")
    parser.add_argument("--after", nargs="+", action="extend", default=[], metavar="CELL",
                        help="cells to run before this one although it reads nothing from them")
    parser.add_argument("--cache", action=argparse.BooleanOptionalAction, default=True,
                        help="reuse the outputs of the last run while source and inputs are"
                        " unchanged (default: on)")
    parser.add_argument("--tags", nargs="+", action="extend", default=[], metavar="TAG")
    return parser


def flow_parser() -> MagicParser:
    parser = MagicParser(prog="%flow", description="Show, run and submit the notebook's flows.")
    commands = parser.add_subparsers(dest="command", parser_class=MagicParser, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help)

    add("show", "display the flow's DAG").add_argument("name", nargs="?")
    run = add("run", "run the flow here; cell outputs come back to the notebook")
    run.add_argument("name", nargs="?")
    _executor_option(run)
    _param_option(run)
    run.add_argument("--persist", metavar="DIR",
                     help="also keep cached cell outputs in DIR, across kernel restarts")
    run.add_argument("--force", action="store_true", help="run every task, ignoring the cache")
    add("config", "display the flow's settings widget").add_argument("name", nargs="?")
    submit = add("submit", "register the flow with the backend and create a run")
    submit.add_argument("name", nargs="?")
    _param_option(submit)
    submit.add_argument("--label", nargs="+", action="extend", default=[], metavar="L",
                        help="labels an agent must offer to run it")
    _executor_option(submit)
    schedule = add("schedule", "run the flow on a schedule on the backend (registers it with "
                               "the schedule active), or pause it with --off")
    schedule.add_argument("name", nargs="?")
    when = schedule.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help='a cron expression, e.g. "0 6 * * 1-5"')
    when.add_argument("--every", metavar="DURATION", help="an interval: 15m, 30s, 2h, 1d")
    when.add_argument("--off", action="store_true", help="pause the flow's schedule")
    schedule.add_argument("--tz", metavar="ZONE", help="the time zone of the times "
                          "(default UTC), e.g. Europe/Berlin")
    _param_option(schedule)
    status = add("status", "a backend run's state, task runs and last logs")
    status.add_argument("run_id", nargs="?", help="default: the run submitted last")
    status.add_argument("--watch", action="store_true",
                        help="show its DAG live, coloured by task states, until it finishes")
    status.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="stop watching after S seconds")
    notify = add("notify", "send a test failure notification to the webhook in SECRET")
    notify.add_argument("secret", nargs="?", default="SLACK_WEBHOOK_URL",
                        help="the environment variable holding the webhook URL")
    notify.add_argument("--message", default="a test notification from jupyter-flows")
    cancel = add("cancel", "cancel a backend run: it stops its tasks and ends Cancelled")
    cancel.add_argument("run_id", nargs="?", help="default: the run submitted last")
    restart = add("restart", "restart a failed or cancelled backend run (same id): only what "
                             "did not succeed runs again")
    restart.add_argument("run_id", nargs="?", help="default: the run submitted last")
    restart.add_argument("--from", dest="from_task", metavar="TASK", default=None,
                         help="also run this task and everything downstream of it again")
    debug = add("debug", "load a backend run's task inputs (from its checkpoints) into the "
                         "notebook, and open the task's cell (or show its code), to reproduce it")
    debug.add_argument("run_id", help="the run, or a unique prefix of its id")
    debug.add_argument("task", help="the task's slug (a cell's name), or SLUG[INDEX] for a "
                                    "map child")
    debug.add_argument("--max-size", type=float, default=100, metavar="MB",
                       help="load at most this many MiB of inputs without asking (100)")
    add("list", "the notebook's flows and their tasks")
    add("clear", "forget a flow (all flows without NAME) and its cached outputs").add_argument(
        "name", nargs="?")
    delete = add("delete", "archive a registered flow in the backend (its runs kept), or "
                           "delete it with its runs")
    delete.add_argument("name_or_id", help="the flow's name (every version) or a version's id")
    delete.add_argument("--project", default=None)
    delete.add_argument("--with-runs", action="store_true",
                        help="delete it and its runs for good")
    remove = add("remove", "forget one task cell (after deleting it from the notebook)")
    remove.add_argument("cell")
    remove.add_argument("--flow", default=None)
    return parser


def _executor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", nargs="+", metavar="KIND",
                        help="local | local-dask [threads|processes|sync] | dask [ADDRESS]")


def _param_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--param", nargs="+", action="extend", default=[], metavar="K=V",
                        help="a flow parameter, or for task cells a notebook variable to"
                        " replace; JSON values, else strings")


def split_line(line: str) -> list[str]:
    return shlex.split(line, posix=not sys.platform.startswith("win"))


def parse_line(parser: MagicParser, line: str) -> argparse.Namespace:
    try:
        return parser.parse_args(split_line(line))
    except ValueError as exc:  # unbalanced quotes
        raise UsageError(f"{parser.prog}: {exc}") from None
