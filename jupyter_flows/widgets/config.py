"""The flow configuration widget: pick and fill a run config and an executor, check them,
set them on the flow, and submit a run to the backend.

``flow_config_widget(flow)`` returns a :class:`FlowConfigWidget`. Its forms are
:class:`~jupyter_flows.widgets.schema_form.SchemaForm` s built from each model's JSON
schema; Apply builds the models with ``run_config_from_config`` / ``executor_from_config``
and puts each ``Model.field: rule`` line of their errors next to its field.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from jupyter_flows.errors import (
    ExecutorError,
    JupyterFlowsError,
    RunConfigError,
    ScheduleError,
)
from jupyter_flows.executors.base import Executor, executor_from_config, executor_types
from jupyter_flows.run_configs import (
    RUN_CONFIG_TYPES,
    RunConfig,
    agent_mismatch,
    run_config_from_config,
)
from jupyter_flows.widgets.schedule_section import ScheduleSection
from jupyter_flows.widgets.schema_form import ERROR_COLOR, FieldParseError, SchemaForm

if TYPE_CHECKING:
    from jupyter_flows.api import Agent, FlowRun
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow

__all__ = ["FlowConfigWidget", "flow_config_widget", "split_error_lines"]

OK_COLOR = "#2e7d32"
WARN_COLOR = "#b26a00"
PROBE_TIMEOUT = 2.0
"""Seconds the widget waits for the default backend to answer before calling it unreachable."""


def flow_config_widget(flow: Flow, client: Client | None = None, *,
                       current: Callable[[], Flow] | None = None) -> FlowConfigWidget:
    """A widget to choose ``flow``'s run config and executor, and to submit a run.

    With ``client`` (or a default ``Client()`` that answers quickly) it also shows which
    online agents could launch the run. ``current`` gives the flow as it is when Submit is
    pressed (a notebook's cell flow, rebuilt from its cells then); without it Submit sends
    ``flow`` as it is.
    """
    return FlowConfigWidget(flow, client, current=current)


class FlowConfigWidget(widgets.VBox):
    """Run config and executor forms for one flow, with Apply and Submit.

    Responsible for:
    - one form per chosen type, built on first use and kept, so switching back keeps what
      was typed; a new form starts from the flow's config of that type, else carries over
      the fields it shares with the form it replaces;
    - ``apply()``: build both models and the schedule, show every error next to its
      field, set them on the flow;
    - ``submit()``: take the flow as it is now (``current``), apply, register it and create
      a run through the backend;
    - the agents line: which online agents have every label the run config asks for.
    """

    def __init__(self, flow: Flow, client: Client | None = None, *,
                 probe_timeout: float = PROBE_TIMEOUT,
                 current: Callable[[], Flow] | None = None) -> None:
        super().__init__()
        self.flow = flow
        self._current = current
        self._client = client
        self._probe_timeout = probe_timeout
        self._run_config_kinds: dict[str, type[RunConfig]] = dict(RUN_CONFIG_TYPES)
        self._executor_kinds: dict[str, type[Executor]] = executor_types()
        self._forms: dict[tuple[str, str], SchemaForm] = {}
        self._shown: dict[str, SchemaForm] = {}
        self._agents: list[Agent] | None = None
        self._backend_problem = ""
        self.last_flow_run: FlowRun | None = None

        initial_rc, rc_problem = _initial(flow.run_config, run_config_from_config)
        initial_ex, ex_problem = _initial(flow.executor, executor_from_config)
        self._prefill = {"run_config": initial_rc, "executor": initial_ex}

        self.run_config_type = widgets.Dropdown(
            description="Run config", options=[
                (cls.__name__.removesuffix("Run"), kind)
                for kind, cls in self._run_config_kinds.items()],
            value=initial_rc.get("type", "universal"),
            tooltip="where a run of this flow executes")
        self.executor_type = widgets.Dropdown(
            description="Executor", options=[
                (cls.__name__.removesuffix("Executor"), kind)
                for kind, cls in self._executor_kinds.items()],
            value=initial_ex.get("type", "local"),
            tooltip="how the tasks of a run execute")
        self._run_config_box = widgets.VBox([])
        self._executor_box = widgets.VBox([])
        self.schedule_section = ScheduleSection(flow.schedule)
        self.apply_button = widgets.Button(description="Apply", button_style="primary",
                                           icon="check",
                                           tooltip="check the configs and set them on the flow")
        self.submit_button = widgets.Button(description="Submit", icon="paper-plane",
                                            tooltip="register the flow and create a flow run")
        self.refresh_button = widgets.Button(description="Agents", icon="refresh",
                                             tooltip="ask the backend again for its agents")
        self.status = widgets.HTML(value="")
        self.agents_status = widgets.HTML(value="")
        self._status_text = ""
        self._agents_text = ""

        self.run_config_type.observe(lambda _c: self._show_run_config_form(), names="value")
        self.executor_type.observe(lambda _c: self._show_executor_form(), names="value")
        self.apply_button.on_click(lambda _b: self._on_click(self.apply))
        self.submit_button.on_click(lambda _b: self._on_click(self.submit))
        self.refresh_button.on_click(lambda _b: self.refresh_agents())
        self._show_run_config_form(problem=rc_problem)
        self._show_executor_form(problem=ex_problem)

        self.children = [
            widgets.HTML(value=f"<h4 style='margin:4px 0'>Flow {html.escape(flow.name)}</h4>"),
            self.run_config_type, self._run_config_box,
            self.executor_type, self._executor_box,
            self.schedule_section,
            widgets.HBox([self.apply_button, self.submit_button, self.refresh_button]),
            self.status, self.agents_status,
        ]
        self.refresh_agents()

    # ------------------------------------------------------------------- forms
    @property
    def run_config_form(self) -> SchemaForm:
        return self._form("run_config", self.run_config_type.value)

    @property
    def executor_form(self) -> SchemaForm:
        return self._form("executor", self.executor_type.value)

    def _form(self, role: str, kind: str) -> SchemaForm:
        key = (role, kind)
        if key not in self._forms:
            kinds: Mapping[str, Any] = (self._run_config_kinds if role == "run_config"
                                        else self._executor_kinds)
            form = SchemaForm.for_model(kinds[kind])
            prefill = self._prefill[role]
            if prefill.get("type") == kind:
                form.set_value(prefill)
            else:
                self._carry_over(role, form)
            if "labels" in form.fields and role == "run_config":
                form.fields["labels"].observe(self._update_agent_match)
            self._forms[key] = form
        return self._forms[key]

    def _carry_over(self, role: str, form: SchemaForm) -> None:
        current = self._shown.get(role)
        if current is None:
            return
        shared = {name: value for name, value in current.value.items()
                  if name in form.fields and name != "type"}
        for name, value in shared.items():
            # a name two models share may still take different values: carry what fits
            with contextlib.suppress(FieldParseError):
                form.fields[name].set(value)

    def _show_run_config_form(self, problem: str = "") -> None:
        self._swap(self._run_config_box, "run_config", self.run_config_form, problem)
        self._update_agent_match()

    def _show_executor_form(self, problem: str = "") -> None:
        self._swap(self._executor_box, "executor", self.executor_form, problem)

    def _swap(self, box: Any, role: str, form: SchemaForm, problem: str) -> None:
        self._shown[role] = form
        box.children = [form]
        if problem:
            form.show_errors({}, problem)

    # ------------------------------------------------------------------- apply
    @property
    def errors(self) -> dict[str, str]:
        """The messages shown now: field name -> message, over both forms; a message about
        a whole form is under ``"run_config"`` or ``"executor"``."""
        shown: dict[str, str] = {}
        for role, form in (("run_config", self.run_config_form),
                           ("executor", self.executor_form)):
            for name, text in form.errors.items():
                shown[name or role] = text
        return shown

    def apply(self) -> tuple[RunConfig, Executor]:
        """Build the run config and the executor from the forms and set them on the flow.

        Every problem is shown next to its field; then ``RunConfigError`` (or
        ``ExecutorError`` when only the executor is wrong, ``ScheduleError`` when only the
        schedule is) is raised with all of them. Nothing is set unless all three are right.
        """
        run_config, rc_lines = self._build(self.run_config_form, run_config_from_config,
                                           RunConfigError)
        executor, ex_lines = self._build(self.executor_form, executor_from_config,
                                         ExecutorError)
        schedule = self.schedule_section.refresh()
        problem = self.schedule_section.problem
        schedule_lines = [f"schedule: {problem}"] if problem is not None else []
        if rc_lines or ex_lines or schedule_lines:
            self._set_status("Not applied: fix the fields marked in red.", ERROR_COLOR)
            error = (RunConfigError if rc_lines else ExecutorError if ex_lines
                     else ScheduleError)
            raise error("\n".join([*rc_lines, *ex_lines, *schedule_lines]))
        assert isinstance(run_config, RunConfig) and isinstance(executor, Executor)
        self.flow.run_config = run_config
        self.flow.executor = executor
        self.flow.schedule = schedule
        when = f"; {schedule.describe()}" if schedule is not None else ""
        self._set_status(f"Applied to flow {self.flow.name!r}: {run_config!r} with "
                         f"{executor.describe()}{when}.", OK_COLOR)
        return run_config, executor

    def _build(self, form: SchemaForm, build: Callable[[Any], Any],
               error: type[JupyterFlowsError]) -> tuple[Any, list[str]]:
        values, problems = form.parse()
        model_name = form.title
        model = None
        try:
            model = build(values)
        except error as exc:
            for field, text in split_error_lines(str(exc), model_name):
                key = field if field in form.fields else ""
                if key and key in problems:
                    continue  # the form's own message says more about text it cannot read
                problems[key] = f"{problems[key]}\n{text}" if problems.get(key) else text
        form_error = problems.pop("", "")
        form.show_errors(problems, form_error)
        lines = [f"{model_name}.{name}: {text}" for name, text in problems.items()]
        lines += [f"{model_name}: {form_error}"] if form_error else []
        return (model if not lines else None), lines

    # ------------------------------------------------------------------ submit
    def submit(self) -> FlowRun:
        """Rebuild the flow (``current``), apply, register it with the backend and create
        a flow run of it."""
        if self._current is not None:
            try:
                self.flow = self._current()
            except JupyterFlowsError as exc:
                self._set_status(f"Submit failed: {exc}", ERROR_COLOR)
                raise
        self.apply()
        client = self._client or self._default_client()
        try:
            record = self.flow.register(client=client)
            run = client.create_flow_run(record.id)
        except JupyterFlowsError as exc:
            self._set_status(f"Submit failed: {exc}", ERROR_COLOR)
            raise
        self.last_flow_run = run
        self._set_status(f"Submitted flow run {run.id} of {record.name!r} version "
                         f"{record.version} ({len(self.flow.tasks)} tasks, {run.state}).",
                         OK_COLOR)
        return run

    def _default_client(self) -> Client:
        from jupyter_flows.client.client import Client

        self._client = Client()
        return self._client

    # ------------------------------------------------------------------ agents
    def refresh_agents(self) -> None:
        """Ask the backend for its agents, then show which ones match the labels."""
        from jupyter_flows.errors import BackendError, BackendUnavailable

        client = self._client
        probe = None
        if client is None:
            from jupyter_flows.client.client import Client

            # the default backend may not exist at all: ask once, briefly
            probe = client = Client(timeout=self._probe_timeout, retries=0)
        try:
            client.health()
            self._agents = client.list_agents()
            self._backend_problem = ""
        except BackendUnavailable:
            self._agents = None
            self._backend_problem = (
                f"No backend answers at {client.url}, so agents are not checked; start one "
                "with `jupyter-flows server start` or set JUPYTER_FLOWS_BACKEND_URL.")
        except BackendError as exc:
            self._agents = None
            self._backend_problem = (f"The backend at {client.url} refused to list agents "
                                     f"(HTTP {exc.status}), so agents are not checked.")
        finally:
            if probe is not None:
                probe.close()
        self._update_agent_match()

    def _update_agent_match(self) -> None:
        if self._agents is None:
            self._set_agents(self._backend_problem, WARN_COLOR)
            return
        labels_field = self.run_config_form.fields.get("labels")
        labels = sorted({str(v).strip() for v in (labels_field.control.value
                                                  if labels_field else []) if str(v).strip()})
        online = [a for a in self._agents if a.online]
        kind = self.run_config_type.value
        why = {a.id: agent_mismatch(labels, kind, a.labels, a.type, a.name) for a in online}
        matching = [a for a in online if not why[a.id]]
        wanted = (f"a {kind} run config, " if kind else "") + (
            f"labels {labels}" if labels else "no labels")
        if matching:
            names = ", ".join(f"{a.name} ({a.type})" for a in matching)
            self._set_agents(f"{len(matching)} online agent(s) can run it ({wanted}): {names}.",
                             OK_COLOR)
        elif not online:
            self._set_agents(f"No agent is online; the run will wait for one with {wanted}.",
                             WARN_COLOR)
        else:
            self._set_agents(f"No online agent can run it ({wanted}): "
                             f"{'; '.join(why.values())}.", WARN_COLOR)

    @property
    def agents_text(self) -> str:
        """The agents line as plain text."""
        return self._agents_text

    @property
    def status_text(self) -> str:
        """The status line (applied, submitted, or what went wrong) as plain text."""
        return self._status_text

    # ------------------------------------------------------------------ helpers
    def _set_status(self, text: str, color: str) -> None:
        self._status_text = text
        self.status.value = _colored(text, color)

    def _set_agents(self, text: str, color: str) -> None:
        self._agents_text = text
        self.agents_status.value = _colored(text, color)

    def _on_click(self, action: Callable[[], Any]) -> None:
        # a button callback that raises only reaches the browser console; the status line
        # (and the field messages) already say what went wrong
        with contextlib.suppress(JupyterFlowsError):
            action()


def _colored(text: str, color: str) -> str:
    return f'<span style="color:{color}">{html.escape(text)}</span>' if text else ""


def _initial(value: Any, build: Callable[[Any], Any]) -> tuple[dict[str, Any], str]:
    """The config dict to prefill a form from ``flow.run_config`` / ``flow.executor``."""
    if value is None:
        return {}, ""
    try:
        model = build(value)
    except (JupyterFlowsError, ValueError) as exc:
        return {}, f"the flow's current config is not valid and was not loaded: {exc}"
    return dict(model.model_dump(mode="json")), ""


_LINE_START = "(?:^|\n|; )"


def split_error_lines(text: str, model_name: str) -> list[tuple[str, str]]:
    """``(field, rule)`` for each ``Model.field: rule`` line of an error message.

    Config errors put one problem per line (older executor errors joined them with ``"; "``);
    a problem without a field (``Model: ...``, or any other text) has field ``""``.
    """
    name = re.escape(model_name)
    starts = [m.start() for m in re.finditer(rf"{_LINE_START}(?={name}[.:])", text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    chunks = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])]
    result = []
    for chunk in chunks:
        chunk = re.sub(r"^(?:\n|; )", "", chunk).strip()
        if not chunk:
            continue
        match = re.match(rf"{name}(?:\.([A-Za-z_][A-Za-z0-9_]*)[^:\s]*)?: (.*)\Z", chunk,
                         re.DOTALL)
        if match is None:
            result.append(("", chunk))
        else:
            result.append((match.group(1) or "", match.group(2)))
    return result
