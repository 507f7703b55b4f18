"""The IPython magics: ``%%task`` cells, ``%%flow`` cells and the ``%flow`` commands.

Loaded by ``%load_ext jupyter_flows`` (or ``c.InteractiveShellApp.extensions``). Each shell
gets one :class:`FlowMagics`, which holds the notebook's flows (``NotebookFlows``), the
session's cache of cell outputs and the last submitted backend run. The work is done by
``notebook_flow`` (registering and building), ``notebook_run`` (running), ``backend``
(submitting), ``summaries`` (what is printed) and ``magic_args`` (the option parsers); this
module connects them to IPython.

Errors in what the user typed or defined come out as ``UsageError``: one message naming the
cell, flow or variable, no traceback of this module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, magics_class

from jupyter_flows.cells.analysis import CellError
from jupyter_flows.errors import FlowDefinitionError, JupyterFlowsError
from jupyter_flows.notebook.flows import (
    CellOptions,
    NotebookFlows,
    notebook_names,
)
from jupyter_flows.notebook.frontend import FrontendLink, cell_status
from jupyter_flows.notebook.logging_setup import install_notebook_logging
from jupyter_flows.notebook.magic_args import Done, flow_parser, parse_line, split_line, task_parser
from jupyter_flows.notebook.naming import DefaultFlow, default_flow, notebook_file
from jupyter_flows.notebook.run import (
    CellCache,
    executor_from_words,
    parse_params,
    run_in_notebook,
)
from jupyter_flows.notebook.summaries import (
    failure_message,
    failure_reports,
    gone_note,
    listing_lines,
    registration_lines,
    run_lines,
    stale_note,
    status_lines,
    unmatched_lines,
)

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.observers import RunObserver
    from jupyter_flows.engine.states import State

__all__ = ["FlowMagics", "load_ipython_extension"]


# ------------------------------------------------------------------------------ magics
def _state_key(task: Task) -> object:
    """Which task of a later build a state belongs to: a cell's task by its name and source
    (an edited cell has no state yet), any other task by identity."""
    from jupyter_flows.cells.tasks import CellTask

    return ("cell", task.slug, task.source_hash) if isinstance(task, CellTask) else task


@magics_class
class FlowMagics(Magics):
    """``%%task``, ``%%flow`` and ``%flow``; one instance per shell holds its notebook's flows."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self.notebook = NotebookFlows()
        self.caches: dict[str, CellCache] = {}
        self.last_states: dict[str, dict[object, State]] = {}
        self.last_submitted: str | None = None
        self.frontend = FrontendLink()
        self.stale: dict[str, list[str]] = {}  # flow -> its cells edited since registered
        self._cell_id: str | None = None
        self._cell_number: int | None = None
        self._task_parser = task_parser()
        self._flow_parser = flow_parser()
        shell.events.register("pre_run_cell", self._pre_run_cell)
        shell.events.register("post_run_cell", self._post_run_cell)

    @property
    def _shell(self) -> InteractiveShell:
        assert self.shell is not None
        return self.shell

    # The frontend's cell id (JupyterLab, Notebook 7 send one) tells a re-run cell from a new
    # one, so an unnamed cell keeps its name and a renamed cell its place. The cell's number
    # (In[N]) is the execution count before IPython counted this cell.
    def _pre_run_cell(self, info: Any) -> None:
        self._cell_id = getattr(info, "cell_id", None)
        counted = bool(getattr(info, "store_history", False))
        self._cell_number = self._shell.execution_count - (1 if counted else 0)

    def _post_run_cell(self, result: Any) -> None:
        self._cell_id = None
        self._cell_number = None

    def _available(self) -> set[str]:
        return notebook_names(self._shell.user_ns, self._shell.user_ns_hidden)

    def _default(self) -> DefaultFlow:
        return default_flow(notebook_file(self._shell.user_ns, self.frontend.path))

    def _refresh(self) -> None:
        """Before each command: the default flow's name, and what the Lab extension said
        about the notebook (cells deleted there leave their flow; edited ones are stale)."""
        self.notebook.default_flow = self._default().name
        cells = [c for f in self.notebook.cell_flows.values() for c in f.cells.values()]
        status = cell_status(cells, self.frontend.snapshot)
        for cell, why in status.gone:
            self.notebook.remove_cell(cell.name, cell.flow)
            print(gone_note(cell.name, cell.flow, why))
        self.stale = {}
        for cell in status.edited:
            self.stale.setdefault(cell.flow, []).append(cell.name)

    # -------------------------------------------------------------------- %%task
    @cell_magic
    def task(self, line: str, cell: str) -> None:
        """Register this cell as a task of a flow; the cell does not run.

            %%task [NAME] [--flow FLOW] [--retries N] [--retry-delay S] [--timeout S]
                   [--after CELL ...] [--cache | --no-cache] [--tags TAG ...]

        Its inputs are the names it reads that earlier task cells of FLOW (default: named
        after the notebook's file, else "notebook") define, or else the notebook's own
        variables (their values when the flow runs); its outputs are the names it defines.
        Re-running the cell replaces the task in place. Without NAME the task is named cell-N
        after the cell's execution count; prefer names. `%flow run` runs the flow.
        """
        try:
            args = parse_line(self._task_parser, line)
        except Done:
            return
        self._refresh()
        options = CellOptions(
            retries=args.retries, retry_delay=args.retry_delay, timeout=args.timeout,
            after=tuple(args.after), cache=args.cache, tags=tuple(args.tags),
        )
        try:
            registration = self.notebook.register(
                name=args.name, flow=args.flow or self.notebook.default_flow, line=line,
                body=cell, options=options,
                available=self._available(), cell_id=self._cell_id,
                execution_count=self._cell_number or self._shell.execution_count,
            )
        except CellError as error:
            raise UsageError(f"{error}\nnothing was registered; an earlier version of the cell,"
                             " if any, stays") from None
        except JupyterFlowsError as error:
            raise UsageError(str(error)) from None
        print("\n".join(registration_lines(registration)))

    # ---------------------------------------------------------------- %%flow, %flow
    @line_cell_magic
    def flow(self, line: str, cell: str | None = None) -> Any:
        """Build a flow from @task calls (cell), or show, run and submit flows (line).

            %%flow NAME          the cell runs inside `with Flow(NAME)`; NAME is bound to it

            %flow show [NAME]
            %flow run [NAME] [--executor local | local-dask [SCHEDULER] | dask [ADDRESS]]
                             [--param K=V ...] [--persist DIR] [--force]
            %flow config [NAME]
            %flow submit [NAME] [--param K=V ...] [--label L ...] [--executor ...]
            %flow schedule [NAME] --cron EXPR [--tz ZONE] [--param K=V ...]
                                  | --every 15m [--param K=V ...] | --off
            %flow status [RUN_ID]
            %flow notify [SECRET] [--message TEXT]
            %flow cancel [RUN_ID]
            %flow restart [RUN_ID] [--from TASK]
            %flow debug RUN_ID TASK [--max-size MB]
            %flow list
            %flow clear [NAME]
            %flow remove CELL [--flow FLOW]
            %flow delete NAME|ID [--with-runs] [--project P]   (in the backend)

        NAME defaults to the flow of the %%task cells (named after the notebook's file, else
        "notebook"), or to the only flow there is.
        """
        try:
            self._refresh()
            if cell is not None:
                return self._build_flow(line, cell)
            args = parse_line(self._flow_parser, line)
            if args.command is None:
                self._flow_parser.print_help()
                return None
            command: Callable[[argparse.Namespace], Any] = getattr(self, f"_{args.command}")
            return command(args)
        except Done:
            return None
        except JupyterFlowsError as error:
            raise UsageError(str(error)) from None

    def _build_flow(self, line: str, cell: str) -> None:
        from jupyter_flows.core.flow import Flow

        words = split_line(line)
        if len(words) != 1:
            raise UsageError("%%flow takes one argument, the flow's name: %%flow NAME")
        name = words[0]
        if name in self.notebook.cell_flows:
            raise UsageError(f"flow {name!r} is made of %%task cells; name this flow differently"
                             " or `%flow clear` it first")
        flow = Flow(name)
        with flow:
            result = self._shell.run_cell(cell, store_history=False, silent=True)
        if not result.success:
            error = result.error_in_exec or result.error_before_exec
            raise UsageError(f"flow {name!r} was not built: its cell raised"
                             f" {type(error).__name__}: {error}")
        flow.validate()
        self.notebook.add_flow(flow)
        self.caches.pop(name, None)
        self.last_states.pop(name, None)
        if name.isidentifier():
            self._shell.user_ns[name] = flow
        if not flow.tasks:
            print(f"note: flow {name!r} has no tasks: call @task functions inside %%flow")
            return
        _display(self._view(name, flow))

    # ----------------------------------------------------------------- commands
    def _is_cells(self, name: str) -> bool:
        return name in self.notebook.cell_flows

    def _build(self, name: str, overrides: dict[str, Any] | None = None
               ) -> tuple[Flow, list[Task], bool]:
        """The flow called ``name``, built now; its tasks in run order; whether it is cells."""
        cell_flow = self.notebook.cell_flows.get(name)
        if cell_flow is None:
            flow = self.notebook.flows[name]
            return flow, flow.sorted_tasks(), False
        built = cell_flow.build(self._shell.user_ns, self._available(), overrides)
        return built.flow, [built.tasks[n] for n in built.graph.order], True

    def _view(self, name: str, flow: Flow) -> Any:
        from jupyter_flows.widgets.dag import DagView

        last = self.last_states.get(name, {})
        states = {t: last[_state_key(t)] for t in flow.tasks if _state_key(t) in last}
        return DagView(flow, states, marks=self._marks(name))

    def _marks(self, name: str) -> dict[str, str]:
        """The DAG's note on each stale cell of flow ``name``, by slug."""
        return dict.fromkeys(self.stale.get(name, ()), "stale: edited, not run")

    def _note_stale(self, name: str, action: str) -> None:
        if self.stale.get(name):
            print(stale_note(self.stale[name], action))

    def _show(self, args: argparse.Namespace) -> Any:
        name = self.notebook.resolve(args.name)
        flow, _, _ = self._build(name)
        return self._view(name, flow)

    def _run(self, args: argparse.Namespace) -> None:
        from jupyter_flows.executors.base import executor_from_config

        name = self.notebook.resolve(args.name)
        params = parse_params(args.param)
        executor = executor_from_words(args.executor)
        flow, order, cells = self._build(name, params if self._is_cells(name) else None)
        self._note_stale(name, "this run uses")
        observers: list[RunObserver] = []
        live = _live_view(flow, self._marks(name))
        if live is not None:
            observers.append(live)
        described = executor_from_config(executor if executor is not None
                                         else flow.executor).describe()
        run = run_in_notebook(
            flow, self._shell.user_ns, order=order, executor=executor,
            parameters=None if cells else params, cache=self.caches.setdefault(name, CellCache()),
            persist=args.persist, force=args.force, observers=observers,
        )
        self.last_states[name] = {_state_key(t): s for t, s in run.task_states.items()}
        print("\n".join(run_lines(run, order, described)))
        reports = failure_reports(run.task_states, order)
        for report in reports:
            print(report, file=sys.stderr)
        if run.state.is_failed():
            raise UsageError(failure_message(name, run.task_states, order))

    def _config(self, args: argparse.Namespace) -> None:
        name = self.notebook.resolve(args.name)
        try:
            from jupyter_flows.widgets.config import flow_config_widget
        except ImportError:
            print("the flow settings widget (jupyter_flows.widgets.config) is not"
                  " available here; set flow.run_config, flow.executor and flow.storage in code")
            return
        try:
            flow, _, _ = self._build(name)
        except FlowDefinitionError:  # settings do not need a valid graph
            flow = self.notebook.cell_flows[name].flow_object()
        # Submit registers the flow as the notebook has it then, not as it was now
        _display(flow_config_widget(flow, current=lambda: self._current(name)))

    def _current(self, name: str) -> Flow:
        self._refresh()
        return self._build(self.notebook.resolve(name))[0]

    def _submit(self, args: argparse.Namespace) -> None:
        from jupyter_flows.client.client import Client
        from jupyter_flows.notebook.submit import run_link, run_view_uri, submit_flow

        name = self.notebook.resolve(args.name)
        params = parse_params(args.param)
        cells = self._is_cells(name)
        flow, _, _ = self._build(name, params if cells else None)
        self._note_stale(name, "the backend gets")
        executor = executor_from_words(args.executor)
        saved = flow.executor
        if executor is not None:
            flow.executor = executor
        try:
            with Client() as client:
                submission = submit_flow(flow, client, parameters=None if cells else params,
                                         labels=args.label)
        finally:
            flow.executor = saved
        run_id = submission.run.id
        self.last_submitted = run_id
        version = submission.registration.version
        print(f"submitted flow {name!r} (version {version}): run {run_id}, "
              f"{submission.created_state}")
        for line in unmatched_lines(submission.run):
            print(line)
        print(f"  {run_link(submission.backend_url, run_id)}")
        print(f"  open it in JupyterLab: {run_view_uri(run_id)}")
        print("  `%flow status` shows its progress")
        default = self._default()
        if cells and name == default.name:
            print(f"  {default.hint()}")

    def _schedule(self, args: argparse.Namespace) -> None:
        from jupyter_flows.client.client import Client
        from jupyter_flows.notebook.schedule import (
            make_schedule,
            pause_flow_schedule,
            schedule_flow,
            schedule_lines,
        )

        name = self.notebook.resolve(args.name)
        cell_flow = self.notebook.cell_flows.get(name)
        settings = cell_flow.flow_object() if cell_flow else self.notebook.flows[name]
        with Client() as client:
            if args.off:
                if args.tz or args.param:
                    raise UsageError("%flow schedule --off takes no --tz or --param")
                shown = pause_flow_schedule(name, client)
                settings.schedule = None  # a later `%flow submit` must not resume it
            else:
                schedule = make_schedule(cron=args.cron, every=args.every, tz=args.tz,
                                         params=parse_params(args.param))
                settings.schedule = schedule  # built flows of the cells carry it
                flow, _, _ = self._build(name)
                self._note_stale(name, "the backend gets")
                shown = schedule_flow(flow, schedule, client)
        print("\n".join(schedule_lines(shown)))

    def _run_id(self, args: argparse.Namespace, command: str) -> str:
        """The run a command names, else the one this notebook submitted last."""
        run_id: str | None = args.run_id or self.last_submitted
        if run_id is None:
            raise UsageError(f"%flow {command}: which run? nothing was submitted from this "
                             f"notebook yet: %flow {command} RUN_ID")
        return run_id

    def _status(self, args: argparse.Namespace) -> None:
        from jupyter_flows.client.client import Client
        from jupyter_flows.notebook.submit import run_status

        run_id = self._run_id(args, "status")
        with Client() as client:
            if args.watch:
                from jupyter_flows.widgets.live import watch_backend_run

                watch_backend_run(client, run_id, timeout=args.timeout)
            run, task_runs, logs = run_status(client, run_id)
            children = client.list_flow_runs(parent=run.id, limit=500).items
        print("\n".join(status_lines(run, task_runs, logs, children)))

    def _notify(self, args: argparse.Namespace) -> None:
        # checks a webhook secret from the notebook before a flow's on_failure needs it
        from jupyter_flows.utilities.notifications import webhook_notifier

        webhook_notifier(args.secret).send_test(args.message)
        print(f"sent a test notification to the webhook in ${args.secret}")

    def _cancel(self, args: argparse.Namespace) -> None:
        from jupyter_flows.client.client import Client

        run_id = self._run_id(args, "cancel")
        with Client() as client:
            run = client.cancel_flow_run(run_id, "cancelled from a notebook (%flow cancel)")
        then = ("" if run.state == "Cancelled" else
                "; its tasks are being stopped (`%flow status` shows when it is Cancelled)")
        print(f"run {run.id} of flow {run.flow_name!r}: {run.state}{then}")

    def _restart(self, args: argparse.Namespace) -> None:
        from jupyter_flows.client.client import Client

        run_id = self._run_id(args, "restart")
        with Client() as client:
            run = client.restart_flow_run(run_id, args.from_task)
        print(f"run {run.id} of flow {run.flow_name!r}: {run.state} ({run.state_message}); "
              f"`%flow status --watch` follows it")

    def _debug(self, args: argparse.Namespace) -> None:
        from jupyter_flows.client.client import Client
        from jupyter_flows.notebook.debug import prepare_debug

        with Client() as client:
            session = prepare_debug(client, args.run_id, args.task,
                                    int(args.max_size * 2**20))
        self._shell.user_ns.update(session.namespace)
        print("\n".join(session.lines))
        if session.is_cell and session.source:
            self._shell.set_next_input(session.source, replace=False)

    def _list(self, args: argparse.Namespace) -> None:
        print("\n".join(listing_lines(self.notebook.cell_flows, self.notebook.flows,
                                     self.stale, self._default())))

    def _clear(self, args: argparse.Namespace) -> None:
        names = self.notebook.clear(args.name)
        for name in names:
            self.caches.pop(name, None)
            self.last_states.pop(name, None)
        print(f"cleared {', '.join(map(repr, names))}" if names else "no flows to clear")

    def _delete(self, args: argparse.Namespace) -> None:
        from jupyter_flows.client.client import Client

        with Client() as client:
            removed = client.delete_flows(args.name_or_id, project=args.project,
                                          with_runs=args.with_runs)
        for item in removed:
            print(f"flow {item.id} deleted with its {item.runs_deleted} run(s)" if item.deleted
                  else f"flow {item.id} archived (its runs kept)")

    def _remove(self, args: argparse.Namespace) -> None:
        flow = self.notebook.remove_cell(args.cell, args.flow)
        print(f"removed task {args.cell!r} from flow {flow!r}")


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def _live_view(flow: Flow, marks: dict[str, str]) -> Any:
    """``LiveRunView(flow)``, displayed, when the live module is installed; else None."""
    try:
        from jupyter_flows.widgets.live import LiveRunView
    except ImportError:
        return None
    try:
        view = LiveRunView(flow)
        view.marks = marks
        view.display()
    except Exception as exc:  # a view that cannot show must not stop the run
        print(f"note: no live view ({type(exc).__name__}: {exc})", file=sys.stderr)
        return None
    return view


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the magics on ``ipython`` once; loading again keeps the notebook's flows."""
    if "FlowMagics" not in ipython.magics_manager.registry:
        magics = FlowMagics(ipython)
        ipython.register_magics(magics)
        magics.frontend.attach(ipython)
    install_notebook_logging()

