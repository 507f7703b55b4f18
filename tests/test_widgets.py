"""The configuration widgets: forms generated from JSON schemas, the flow config widget's
type switching, prefill, Apply with messages next to fields, and Submit and agent matching
against a real backend. Widgets are driven by setting their traits, as a browser would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from widget_support import backend_fixture, offline_fixture  # noqa: F401 (fixtures)

from jupyter_flows import (
    DaskExecutor,
    DockerRun,
    ECSRun,
    Flow,
    KubernetesRun,
    Local,
    LocalDaskExecutor,
    LocalExecutor,
    LocalRun,
    UniversalRun,
    task,
)
from jupyter_flows.client.client import Client
from jupyter_flows.errors import ExecutorError, RunConfigError
from jupyter_flows.executors.base import executor_types
from jupyter_flows.run_configs import RUN_CONFIG_TYPES
from jupyter_flows.server.testing import free_port
from jupyter_flows.widgets.config import (
    FlowConfigWidget,
    flow_config_widget,
    split_error_lines,
)
from jupyter_flows.widgets.schema_form import SchemaForm


@task
def hello() -> str:
    return "hello"


def make_flow(**configs: Any) -> Flow:
    with Flow("configured", **configs) as flow:
        hello()
    return flow


def control(form: SchemaForm, name: str) -> Any:
    return form.fields[name].control


# ----------------------------------------------------------------------- SchemaForm
FIELD_KINDS = [
    (LocalRun, {"type": "const", "env": "key-value", "labels": "list", "working_dir": "text"}),
    (DockerRun, {"image": "text", "ports": "list", "host_config": "json"}),
    (KubernetesRun, {"job_template": "json", "cpu_request": "number",
                     "memory_request": "number", "image_pull_secrets": "list",
                     "image_pull_policy": "choice", "service_account_name": "text"}),
    (ECSRun, {"task_definition": "json", "run_task_kwargs": "json", "cpu": "number",
              "task_role_arn": "text"}),
    (LocalDaskExecutor, {"scheduler": "choice", "num_workers": "number"}),
    (DaskExecutor, {"address": "text", "cluster_class": "text", "cluster_kwargs": "json",
                    "adapt_kwargs": "json", "client_kwargs": "json", "debug": "checkbox"}),
]


@pytest.mark.parametrize(("model", "kinds"), FIELD_KINDS, ids=lambda v: getattr(v, "__name__", ""))
def test_each_property_gets_the_control_its_schema_calls_for(model: Any, kinds: dict) -> None:
    form = SchemaForm.for_model(model)
    assert {name: form.fields[name].kind for name in kinds} == kinds
    assert set(form.fields) == set(model.model_json_schema()["properties"])


def test_a_form_reads_any_schema_not_just_the_models() -> None:
    schema = {
        "title": "Thing",
        "type": "object",
        "required": ["kind", "name", "color"],
        "$defs": {"Color": {"enum": ["red", "green"], "type": "string"}},
        "properties": {
            "kind": {"const": "thing", "type": "string"},
            "name": {"type": "string", "description": "what it is called"},
            "color": {"$ref": "#/$defs/Color"},
            "shade": {"anyOf": [{"$ref": "#/$defs/Color"}, {"type": "null"}], "default": None},
            "count": {"type": "integer", "minimum": 1, "maximum": 9, "default": 3},
            "ratio": {"type": ["number", "null"]},
            "flag": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "extra": {},
        },
    }
    form = SchemaForm(schema)
    kinds = {name: f.kind for name, f in form.fields.items()}
    assert kinds == {"kind": "const", "name": "text", "color": "choice", "shade": "choice",
                     "count": "number", "ratio": "number", "flag": "choice", "tags": "list",
                     "extra": "json"}
    assert control(form, "name").tooltip == "what it is called"
    assert control(form, "tags").allowed_tags == ["a", "b"]
    # a required enum has no "(not set)" choice; a nullable one starts unset
    assert [v for _, v in control(form, "color").options] == ["red", "green"]
    assert form.value == {"kind": "thing", "color": "red", "count": 3}

    control(form, "name").value = "widget"
    control(form, "shade").value = "green"
    control(form, "ratio").value = "0.25"
    control(form, "flag").value = False
    control(form, "extra").value = "[1, 2]"
    assert form.value == {"kind": "thing", "name": "widget", "color": "red", "shade": "green",
                          "count": 3, "ratio": 0.25, "flag": False, "extra": [1, 2]}

    control(form, "count").value = "12"
    control(form, "ratio").value = "lots"
    values, problems = form.parse()
    assert problems == {"count": "expected an integer >= 1 and <= 9, got 12",
                        "ratio": "expected a number, got 'lots'"}
    assert "count" not in values and "ratio" not in values


def test_set_value_and_value_round_trip() -> None:
    form = SchemaForm.for_model(KubernetesRun)
    config = {"type": "kubernetes", "env": {"A": "1", "B": "two"}, "labels": ["gpu", "x"],
              "cpu_request": 0.5, "memory_request": "4Gi", "image_pull_policy": "Always",
              "job_template": {"apiVersion": "batch/v1", "kind": "Job"},
              "image_pull_secrets": ["regcred"]}
    form.set_value(config)
    assert form.value == config
    assert [(row.name.value, row.control.value) for row in form.fields["env"].rows] == [
        ("A", "1"), ("B", "two")]
    form.set_value({"image": "python:3.11"})  # fields left out are emptied
    assert form.value == {"type": "kubernetes", "image": "python:3.11"}
    with pytest.raises(ValueError, match="KubernetesRun has no field 'memory'"):
        form.set_value({"memory": "1Gi"})


def test_key_value_rows_for_env() -> None:
    form = SchemaForm.for_model(LocalRun)
    env = form.fields["env"]
    assert env.rows == []
    env.add_button.click()
    row = env.rows[0]
    row.name.value, row.control.value = "API_URL", "http://api"
    second = env.add_row()
    second.name.value = "TOKEN"
    second.control.value = "s3cret"  # a password field, since the name looks secret
    assert form.value["env"] == {"API_URL": "http://api", "TOKEN": "s3cret"}

    env.remove_row(0)
    assert form.value["env"] == {"TOKEN": "s3cret"}
    env.add_row("", "")  # a blank row is ignored
    assert form.value["env"] == {"TOKEN": "s3cret"}
    env.add_row("TOKEN", "again")
    assert form.parse()[1] == {"env": "'TOKEN' is given twice"}
    env.remove_row(2)
    env.add_row("", "orphan")
    assert form.parse()[1] == {"env": "the value 'orphan' has no name"}


def _synced_state() -> str:
    """What a notebook saves of its widgets: the manager state of every open widget (each
    one's ``get_state()``), which is also what the kernel syncs to the browser."""
    import json

    import ipywidgets

    return json.dumps(ipywidgets.Widget.get_manager_state(), default=str)


def test_secret_looking_env_values_are_hidden_and_never_in_widget_state(offline: None) -> None:
    import ipywidgets

    flow = make_flow(run_config=LocalRun(env={"MODE": "batch", "DB_PASSWORD": "prefilled-pw"}))
    widget = flow_config_widget(flow)
    env = widget.run_config_form.fields["env"]
    mode, password = env.rows
    assert isinstance(mode.control, ipywidgets.Text) and not mode.secret
    assert isinstance(password.control, ipywidgets.Password)
    assert password.control.continuous_update is False  # sent on Enter/blur, not per key
    assert password.control.placeholder == "set, hidden: type to replace"

    # typed into a row whose name turns secret as it is typed: the field becomes a password
    row = env.add_row()
    row.control.value = "typed-token-value"
    row.name.value = "API_TOKEN"
    assert row.secret
    # typed into the password field, as the browser sends it
    password.control.value = "replaced-pw"
    state = _synced_state()
    for secret in ("prefilled-pw", "typed-token-value", "replaced-pw"):
        assert secret not in state
    assert "batch" in state  # the check can fail: ordinary values are in the state
    run_config, _ = widget.apply()
    assert run_config.env == {"MODE": "batch", "DB_PASSWORD": "replaced-pw",
                              "API_TOKEN": "typed-token-value"}
    assert "replaced-pw" not in _synced_state()  # the status line shows the masked repr
    # a name that stops looking secret shows its value again
    row.name.value = "API_URL"
    assert not row.secret and row.control.value == "typed-token-value"


def test_list_fields_are_as_wide_as_the_other_editors() -> None:
    form = SchemaForm.for_model(DockerRun)
    ports = control(form, "ports")
    assert ports.layout.width == control(form, "host_config").layout.width == "420px"
    assert ports.placeholder == "e.g. 8080: type one, press Enter"


def test_json_editor_checks_json_as_it_is_typed() -> None:
    form = SchemaForm.for_model(DaskExecutor)
    kwargs = form.fields["cluster_kwargs"]
    kwargs.control.value = '{"n_workers": 2'
    assert kwargs.error.startswith("not valid JSON: Expecting ',' delimiter at line 1")
    kwargs.control.value = "[1]"
    assert kwargs.error == 'expected a JSON object like {"key": 1}, got an array'
    kwargs.control.value = '{"n_workers": 2}'
    assert kwargs.error == ""
    assert form.value["cluster_kwargs"] == {"n_workers": 2}
    # a job template may be YAML text: text that is not JSON is kept as text
    k8s = SchemaForm.for_model(KubernetesRun)
    control(k8s, "job_template").value = "apiVersion: batch/v1\nkind: Job\n"
    assert k8s.value["job_template"] == "apiVersion: batch/v1\nkind: Job\n"
    assert k8s.fields["job_template"].error == ""


# ------------------------------------------------------------------ error lines
@pytest.mark.parametrize(("text", "model", "expected"), [
    ("KubernetesRun.memory_request: expected a Kubernetes quantity like '4Gi', got '4 gigs'",
     "KubernetesRun",
     [("memory_request", "expected a Kubernetes quantity like '4Gi', got '4 gigs'")]),
    ("LocalRun.env: bad name\nLocalRun.labels[0]: expected non-empty labels, got ' '",
     "LocalRun", [("env", "bad name"), ("labels", "expected non-empty labels, got ' '")]),
    ("DaskExecutor.cluster_kwargs: Input should be a valid dictionary; "
     "DaskExecutor.debug: Input should be a valid boolean", "DaskExecutor",
     [("cluster_kwargs", "Input should be a valid dictionary"),
      ("debug", "Input should be a valid boolean")]),
    ("DaskExecutor: give an address or a cluster_class, not both", "DaskExecutor",
     [("", "give an address or a cluster_class, not both")]),
    ("LocalRun.workdir: unknown field; did you mean 'working_dir'?", "LocalRun",
     [("workdir", "unknown field; did you mean 'working_dir'?")]),
    ("unknown run config type 'x'; known: local", "LocalRun",
     [("", "unknown run config type 'x'; known: local")]),
])
def test_split_error_lines(text: str, model: str, expected: list) -> None:
    assert split_error_lines(text, model) == expected


# ----------------------------------------------------------- the flow config widget
def test_type_dropdowns_list_every_run_config_and_executor(offline: None) -> None:
    widget = flow_config_widget(make_flow())
    assert isinstance(widget, FlowConfigWidget)
    assert [label for label, _ in widget.run_config_type.options] == [
        "Local", "Docker", "Kubernetes", "ECS", "Universal"]
    assert [label for label, _ in widget.executor_type.options] == [
        "Local", "LocalDask", "Dask"]
    assert list(dict(widget.run_config_type.options).values()) == list(RUN_CONFIG_TYPES)
    assert list(dict(widget.executor_type.options).values()) == list(executor_types())
    # a flow without configs starts from what it would run with: UniversalRun, LocalExecutor
    assert widget.run_config_form.value == {"type": "universal"}
    assert widget.executor_form.value == {"type": "local"}


def test_switching_types_rebuilds_the_form_and_keeps_shared_fields(offline: None) -> None:
    widget = flow_config_widget(make_flow())
    form = widget.run_config_form
    form.fields["env"].add_row("MODE", "batch")
    control(form, "labels").value = ["gpu"]

    widget.run_config_type.value = "kubernetes"
    k8s = widget.run_config_form
    assert k8s is not form and k8s.title == "KubernetesRun"
    assert k8s in widget._run_config_box.children
    assert k8s.value == {"type": "kubernetes", "env": {"MODE": "batch"}, "labels": ["gpu"]}
    control(k8s, "memory_request").value = "2Gi"

    widget.run_config_type.value = "docker"
    assert set(widget.run_config_form.fields) >= {"image", "ports", "host_config"}
    widget.run_config_type.value = "kubernetes"  # what was typed there is still there
    assert widget.run_config_form is k8s and k8s.value["memory_request"] == "2Gi"

    widget.executor_type.value = "local-dask"
    assert widget.executor_form.value == {"type": "local-dask", "scheduler": "threads"}
    control(widget.executor_form, "scheduler").value = "processes"
    control(widget.executor_form, "num_workers").value = "2"
    run_config, executor = widget.apply()
    assert run_config == KubernetesRun(env={"MODE": "batch"}, labels=["gpu"],
                                       memory_request="2Gi")
    assert executor == LocalDaskExecutor(scheduler="processes", num_workers=2)


def test_apply_sets_the_flow_configs(offline: None) -> None:
    flow = make_flow()
    widget = flow_config_widget(flow)
    widget.run_config_type.value = "local"
    form = widget.run_config_form
    row = form.fields["env"].add_row()
    row.name.value, row.control.value = "DATA_DIR", "/data"
    control(form, "labels").value = [" etl ", "gpu", "etl"]
    control(form, "working_dir").value = "/srv/flows"

    widget.apply_button.click()
    assert flow.run_config == LocalRun(env={"DATA_DIR": "/data"}, labels=["etl", "gpu"],
                                       working_dir="/srv/flows")
    assert flow.executor == LocalExecutor()
    assert widget.errors == {}
    assert widget.status_text.startswith("Applied to flow 'configured'")


def test_a_bad_kubernetes_memory_quantity_shows_next_to_memory_request(offline: None) -> None:
    flow = make_flow()
    widget = flow_config_widget(flow)
    widget.run_config_type.value = "kubernetes"
    form = widget.run_config_form
    control(form, "memory_request").value = "4 gigs"
    control(form, "cpu_request").value = "500m"
    control(form, "image").value = "ghcr.io/acme/flows:1.4"

    widget.apply_button.click()  # a click never raises; the messages say what is wrong
    assert widget.errors == {
        "memory_request": "expected a Kubernetes quantity like '4Gi', got '4 gigs'"}
    assert "4 gigs" in form.fields["memory_request"].message.value
    assert "color:#c62828" in form.fields["memory_request"].message.value
    assert all(f.message.value == "" for n, f in form.fields.items() if n != "memory_request")
    assert flow.run_config is None and flow.executor is None
    assert widget.status_text.startswith("Not applied")
    with pytest.raises(RunConfigError, match=r"KubernetesRun\.memory_request: expected a "):
        widget.apply()

    control(form, "memory_request").value = "4Gi"
    assert widget.errors == {}  # editing the field clears its message
    run_config, _ = widget.apply()
    assert run_config == flow.run_config == KubernetesRun(
        image="ghcr.io/acme/flows:1.4", cpu_request="500m", memory_request="4Gi")


def test_every_broken_field_gets_its_own_message(offline: None) -> None:
    widget = flow_config_widget(make_flow())
    widget.run_config_type.value = "kubernetes"
    form = widget.run_config_form
    control(form, "memory_request").value = "4Gi"
    control(form, "memory_limit").value = "1Gi"
    control(form, "service_account_name").value = "Flow Runner"
    form.fields["env"].add_row("1BAD", "x")
    with pytest.raises(RunConfigError):
        widget.apply()
    assert set(widget.errors) == {"memory_limit", "service_account_name", "env"}
    assert widget.errors["memory_limit"] == "expected at least memory_request ('4Gi'), got '1Gi'"
    assert "'Flow Runner'" in widget.errors["service_account_name"]
    assert "'1BAD'" in widget.errors["env"]


def test_ecs_rules_across_fields_land_on_the_field_that_breaks_them(offline: None) -> None:
    widget = flow_config_widget(make_flow())
    widget.run_config_type.value = "ecs"
    form = widget.run_config_form
    control(form, "task_definition_path").value = "s3://bucket/task.yaml"
    control(form, "task_definition_arn").value = "flow:3"
    control(form, "run_task_kwargs").value = '{"cluster": "flows"}'
    with pytest.raises(RunConfigError):
        widget.apply()
    assert widget.errors == {"task_definition_arn": (
        "expected at most one of task_definition, task_definition_path and "
        "task_definition_arn, got task_definition_path and task_definition_arn")}


def test_dask_executor_with_cluster_class_and_kwargs(offline: None) -> None:
    flow = make_flow()
    widget = flow_config_widget(flow)
    widget.executor_type.value = "dask"
    form = widget.executor_form
    control(form, "cluster_class").value = "distributed.LocalCluster"
    control(form, "cluster_kwargs").value = '{"n_workers": 2, "threads_per_worker": 1'
    assert form.fields["cluster_kwargs"].error.startswith("not valid JSON")

    with pytest.raises(ExecutorError, match=r"DaskExecutor\.cluster_kwargs: not valid JSON"):
        widget.apply()
    assert list(widget.errors) == ["cluster_kwargs"]
    assert flow.executor is None

    control(form, "cluster_kwargs").value = '{"n_workers": 2, "threads_per_worker": 1}'
    control(form, "adapt_kwargs").value = '{"minimum": 1, "maximum": 4}'
    _, executor = widget.apply()
    assert executor == flow.executor == DaskExecutor(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1},
        adapt_kwargs={"minimum": 1, "maximum": 4})

    # a rule about the whole config is shown under the form
    control(form, "address").value = "tcp://10.0.0.5:8786"
    with pytest.raises(ExecutorError):
        widget.apply()
    assert widget.errors == {"executor": "give an address or a cluster_class, not both"}
    assert "not both" in form.form_message.value


def test_bounds_are_checked_before_the_model(offline: None) -> None:
    widget = flow_config_widget(make_flow())
    widget.executor_type.value = "local-dask"
    control(widget.executor_form, "num_workers").value = "0"
    with pytest.raises(ExecutorError):
        widget.apply()
    assert widget.errors == {"num_workers": "expected an integer > 0, got 0"}
    control(widget.executor_form, "num_workers").value = "two"
    with pytest.raises(ExecutorError):
        widget.apply()
    assert widget.errors == {"num_workers": "expected an integer, got 'two'"}


def test_forms_start_from_the_flows_configs(offline: None) -> None:
    run_config = KubernetesRun(env={"MODE": "batch", "API_TOKEN": "t0k"}, labels=["gpu"],
                               cpu_request=2, memory_request="4Gi",
                               job_template={"kind": "Job"}, image_pull_policy="IfNotPresent")
    executor = LocalDaskExecutor(scheduler="processes", num_workers=3)
    flow = make_flow(run_config=run_config, executor=executor)
    widget = flow_config_widget(flow)
    assert widget.run_config_type.value == "kubernetes"
    assert widget.executor_type.value == "local-dask"
    assert widget.run_config_form.value == run_config.model_dump(mode="json", exclude_none=True)
    assert widget.executor_form.value == executor.model_dump(exclude_none=True)
    assert control(widget.run_config_form, "cpu_request").value == "2"
    assert widget.apply() == (run_config, executor)

    # configs given as dicts and type names prefill too
    widget = flow_config_widget(make_flow(run_config={"type": "DockerRun", "image": "py:3"},
                                          executor="dask"))
    assert widget.run_config_form.value == {"type": "docker", "image": "py:3"}
    assert widget.executor_form.value == {"type": "dask", "debug": False}


def test_a_flow_with_an_invalid_config_still_opens(offline: None) -> None:
    widget = flow_config_widget(make_flow(run_config={"type": "kubernetes", "cpu_limit": "x"}))
    assert widget.run_config_type.value == "universal"
    assert "not valid and was not loaded" in widget.errors["run_config"]
    assert "cpu_limit" in widget.errors["run_config"]


# ---------------------------------------------------------------- backend and agents
def test_unreachable_backend_is_one_line_and_no_exception(offline: None) -> None:
    widget = flow_config_widget(make_flow())
    assert widget.agents_text.startswith("No backend answers at http://127.0.0.1:")
    assert "\n" not in widget.agents_text
    control(widget.run_config_form, "labels").value = ["gpu"]  # no backend call, no error
    assert widget.agents_text.startswith("No backend answers")

    given = Client(f"http://127.0.0.1:{free_port()}", retries=0)
    widget = flow_config_widget(make_flow(), client=given)
    assert widget.agents_text.startswith(f"No backend answers at {given.url}")


def test_agents_matching_the_labels_are_shown(backend: str) -> None:
    client = Client(backend)
    client.register_agent("a1", "local", ["gpu"])
    client.register_agent("a2", "docker", [])
    widget = flow_config_widget(make_flow(), client=client)
    labels = control(widget.run_config_form, "labels")
    assert widget.agents_text.startswith("2 online agent(s) can run it (a universal run "
                                         "config, no labels): ")

    labels.value = ["gpu"]
    assert widget.agents_text == ("1 online agent(s) can run it (a universal run config, "
                                  "labels ['gpu']): a1 (local).")
    labels.value = ["gpu", "big-memory"]
    assert widget.agents_text == (
        "No online agent can run it (a universal run config, labels ['big-memory', 'gpu']): "
        "agent 'a1' (local) lacks 'big-memory'; agent 'a2' (docker) lacks 'big-memory', "
        "'gpu'.")
    assert "#b26a00" in widget.agents_status.value  # a warning colour

    client.register_agent("a3", "local", ["gpu", "big-memory"])
    widget.refresh_button.click()
    assert widget.agents_text.endswith("can run it (a universal run config, labels "
                                       "['big-memory', 'gpu']): a3 (local).")
    # the labels of another run config type count once it is chosen, and so does its kind:
    # only a docker agent runs a DockerRun
    widget.run_config_type.value = "docker"
    assert widget.run_config_form.value["labels"] == ["gpu", "big-memory"]
    control(widget.run_config_form, "labels").value = []
    assert widget.agents_text == ("1 online agent(s) can run it (a docker run config, no "
                                  "labels): a2 (docker).")
    client.register_agent("a4", "kubernetes", [])
    widget.refresh_button.click()
    assert "agent 'a4'" not in widget.agents_text and widget.agents_text.startswith("1 ")


def test_the_default_client_finds_a_running_backend(backend: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", backend)
    widget = flow_config_widget(make_flow())
    assert "online agent(s) can run it" in widget.agents_text


def test_submit_registers_the_flow_and_creates_a_run(backend: str, tmp_path: Path) -> None:
    client = Client(backend)
    flow = make_flow(storage=Local(directory=str(tmp_path / "flows")))
    widget = flow_config_widget(flow, client=client)
    control(widget.run_config_form, "labels").value = ["submit-test"]
    widget.submit_button.click()

    run = widget.last_flow_run
    assert run is not None
    assert widget.status_text.startswith(f"Submitted flow run {run.id} of 'configured'")
    stored = client.get_flow_run(run.id)
    assert stored.state == "Scheduled"
    assert stored.labels == ["submit-test"]
    assert stored.run_config == UniversalRun(labels=["submit-test"]).model_dump(mode="json")
    assert flow.run_config == UniversalRun(labels=["submit-test"])


def test_submit_with_invalid_fields_sends_nothing(backend: str, tmp_path: Path) -> None:
    client = Client(backend)
    flow = make_flow(storage=Local(directory=str(tmp_path / "flows")))
    widget = flow_config_widget(flow, client=client)
    registered = client.list_flows(name="configured").items
    widget.run_config_type.value = "kubernetes"
    control(widget.run_config_form, "cpu_limit").value = "lots"
    with pytest.raises(RunConfigError):
        widget.submit()
    assert widget.last_flow_run is None
    assert widget.errors == {"cpu_limit": "expected a number or a quantity like '500m', "
                                          "got 'lots'"}
    assert client.list_flows(name="configured").items == registered
