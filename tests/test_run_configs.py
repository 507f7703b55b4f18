"""Run configs: JSON round trips, schema, field rules and their messages, masking, labels."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import jupyter_flows.run_configs as rc
from jupyter_flows.errors import JupyterFlowsError
from jupyter_flows.run_configs import (
    RUN_CONFIG_TYPES,
    AnyRunConfig,
    DockerRun,
    ECSRun,
    KubernetesRun,
    LocalRun,
    RunConfig,
    RunConfigError,
    UniversalRun,
    describe_mismatch,
    labels_match,
    run_config_from_config,
    run_config_schema,
)

TASK_DEF_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/flow:3"
ROLE_ARN = "arn:aws:iam::123456789012:role/flow-runner"


def error_text(model: type[RunConfig], **fields: Any) -> str:
    """The message constructing ``model`` with ``fields`` fails with."""
    with pytest.raises(RunConfigError) as info:
        model(**fields)
    return str(info.value)


# --- the package surface -------------------------------------------------------------


def test_all_lists_every_public_name_once() -> None:
    public = {
        name
        for name, value in vars(rc).items()
        if not name.startswith("_") and name != "annotations" and type(value).__name__ != "module"
    }
    assert len(rc.__all__) == len(set(rc.__all__))
    assert set(rc.__all__) == public


def test_import_is_light() -> None:
    code = (
        "import sys, jupyter_flows.run_configs\n"
        "heavy = {'dask', 'distributed', 'IPython', 'ipywidgets', 'yaml', 'fastapi', "
        "'httpx', 'cloudpickle', 'jupyter_flows.core', 'jupyter_flows.engine'}\n"
        "print(sorted(m for m in sys.modules if m in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_error_is_part_of_the_tree() -> None:
    assert issubclass(RunConfigError, JupyterFlowsError)
    # a ValueError too, so pydantic models with a run config field report it
    assert issubclass(RunConfigError, ValueError)


# --- JSON in and out -------------------------------------------------------------------

EVERY_TYPE = [
    pytest.param(UniversalRun(), id="universal-empty"),
    pytest.param(UniversalRun(env={"A": "1"}, labels=["dev"]), id="universal"),
    pytest.param(LocalRun(), id="local-empty"),
    pytest.param(LocalRun(working_dir="/srv/flows", labels=["laptop"]), id="local"),
    pytest.param(
        DockerRun(
            image="python:3.11-slim",
            ports=[8080, 8786],
            host_config={"mem_limit": "2g", "binds": {"/data": {"bind": "/data"}}},
            env={"LOG_LEVEL": "debug"},
        ),
        id="docker",
    ),
    pytest.param(
        KubernetesRun(
            image="ghcr.io/acme/flows:1.4",
            job_template={"apiVersion": "batch/v1", "kind": "Job", "spec": {"ttl": None}},
            cpu_request="500m",
            cpu_limit=2,
            memory_request="512Mi",
            memory_limit=4 * 2**30,
            service_account_name="flow-runner",
            image_pull_secrets=["regcred"],
            image_pull_policy="IfNotPresent",
            labels=["k8s", "gpu"],
        ),
        id="kubernetes",
    ),
    pytest.param(KubernetesRun(job_template="kind: Job\n", cpu_limit=1.5), id="kubernetes-yaml"),
    pytest.param(KubernetesRun(job_template_path="s3://bucket/job.yaml"), id="kubernetes-path"),
    pytest.param(
        ECSRun(
            task_definition={"family": "flow", "containerDefinitions": [{"name": "flow"}]},
            image="123456789012.dkr.ecr.us-east-1.amazonaws.com/flows:1.4",
            cpu="1 vCPU",
            memory=2048,
            task_role_arn=ROLE_ARN,
            execution_role_arn="arn:aws-us-gov:iam::123456789012:role/path/to/exec",
            run_task_kwargs={"cluster": "flows", "launchType": "FARGATE"},
        ),
        id="ecs",
    ),
    pytest.param(ECSRun(task_definition_arn=TASK_DEF_ARN, cpu=1024), id="ecs-arn"),
]


@pytest.mark.parametrize("config", EVERY_TYPE)
def test_json_round_trip(config: RunConfig) -> None:
    text = config.model_dump_json()
    assert run_config_from_config(text) == config
    assert run_config_from_config(json.loads(text)) == config
    assert TypeAdapter(AnyRunConfig).validate_json(text) == config
    assert type(run_config_from_config(text)) is type(config)


@pytest.mark.parametrize("config", EVERY_TYPE)
def test_copies_hash_like_originals(config: RunConfig) -> None:
    copy = run_config_from_config(config.model_dump_json())
    assert hash(copy) == hash(config)
    assert len({config, copy}) == 1


def test_hash_ignores_env_order() -> None:
    a = LocalRun(env={"A": "1", "B": "2"})
    b = LocalRun(env={"B": "2", "A": "1"})
    assert a == b and hash(a) == hash(b)


def test_run_config_as_a_field_of_another_model() -> None:
    class Deployment(BaseModel):
        run_config: AnyRunConfig

    d = Deployment.model_validate({"run_config": {"type": "docker", "image": "x"}})
    assert d.run_config == DockerRun(image="x")
    assert Deployment.model_validate_json(d.model_dump_json()) == d


# --- the schema -----------------------------------------------------------------------


def test_schema_is_a_discriminated_union_of_every_type() -> None:
    schema = run_config_schema()
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(schema["discriminator"]["mapping"]) == set(RUN_CONFIG_TYPES)
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in schema["oneOf"]} == {
        cls.__name__ for cls in RUN_CONFIG_TYPES.values()
    }
    json.dumps(schema)  # JSON-able as it is


@pytest.mark.parametrize("kind", list(RUN_CONFIG_TYPES))
def test_schema_describes_every_field_and_requires_type(kind: str) -> None:
    model = RUN_CONFIG_TYPES[kind]
    definition = run_config_schema()["$defs"][model.__name__]
    assert definition["properties"]["type"]["const"] == kind
    assert definition["required"] == ["type"]
    assert definition["additionalProperties"] is False
    assert definition["description"]
    missing = [
        name for name, prop in definition["properties"].items() if not prop.get("description")
    ]
    assert missing == []


def test_type_names_in_the_order_messages_list_them() -> None:
    assert list(RUN_CONFIG_TYPES) == ["local", "docker", "kubernetes", "ecs", "universal"]


# --- Kubernetes quantities ------------------------------------------------------------

CPU = "expected a number or a quantity like '500m', got {!r}"
MEMORY = "expected a Kubernetes quantity like '4Gi', got {!r}"
NEGATIVE = "expected a non-negative amount, got {!r}"

QUANTITIES = [
    # (field, value, error message or None)
    ("cpu_request", "500m", None),
    ("cpu_request", 2, None),
    ("cpu_request", 0.25, None),
    ("cpu_request", "1.5", None),
    ("cpu_request", ".5", None),
    ("cpu_request", "1.", None),
    ("cpu_request", "+1", None),
    ("cpu_request", "100u", None),
    ("cpu_request", "0", None),
    ("cpu_limit", "1e3", None),
    ("memory_request", "4Gi", None),
    ("memory_request", "512Mi", None),
    ("memory_request", "1G", None),
    ("memory_request", "1.5Gi", None),
    ("memory_request", "1E", None),  # exa, a suffix, not an exponent
    ("memory_request", "128974848", None),
    ("memory_request", 1073741824, None),
    ("memory_request", "129e6", None),
    ("cpu_request", "lots", CPU.format("lots")),
    ("cpu_request", "500 m", CPU.format("500 m")),
    ("cpu_request", " 1", CPU.format(" 1")),
    ("cpu_request", "", CPU.format("")),
    ("cpu_request", "1.5.5", CPU.format("1.5.5")),
    ("cpu_request", "1e3.5", CPU.format("1e3.5")),
    ("cpu_request", True, CPU.format(True)),
    ("cpu_request", float("inf"), CPU.format(float("inf"))),
    ("cpu_request", [1], CPU.format([1])),
    ("cpu_request", "-1", NEGATIVE.format("-1")),
    ("cpu_limit", -0.5, NEGATIVE.format(-0.5)),
    ("memory_request", "4 gigs", MEMORY.format("4 gigs")),
    ("memory_request", "4GB", MEMORY.format("4GB")),
    ("memory_request", "4gi", MEMORY.format("4gi")),
    ("memory_request", "Gi", MEMORY.format("Gi")),
    ("memory_request", "4Gib", MEMORY.format("4Gib")),
    ("memory_request", 1.5, MEMORY.format(1.5)),
    ("memory_limit", -1, NEGATIVE.format(-1)),
    (
        "memory_request",
        "512m",
        "'512m' means 0.512 bytes ('m' is milli); use 'Mi' or 'M' for mebibytes or "
        "megabytes, e.g. '512Mi'",
    ),
]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    QUANTITIES,
    ids=[f"{f}={v!r}" for f, v, _ in QUANTITIES],
)
def test_kubernetes_quantities(field: str, value: Any, error: str | None) -> None:
    if error is None:
        assert getattr(KubernetesRun(**{field: value}), field) == value
    else:
        assert error_text(KubernetesRun, **{field: value}) == f"KubernetesRun.{field}: {error}"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [case for case in QUANTITIES if isinstance(case[1], str)],
    ids=[f"{f}={v!r}" for f, v, _ in QUANTITIES if isinstance(v, str)],
)
def test_schema_patterns_agree_with_validation(field: str, value: str, error: str | None) -> None:
    # Forms validate with the schema's pattern before the server sees the config.
    prop = run_config_schema()["$defs"]["KubernetesRun"]["properties"][field]
    pattern = next(s["pattern"] for s in prop["anyOf"] if s.get("type") == "string")
    assert (re.search(pattern, value) is not None) == (error is None)


@pytest.mark.parametrize(
    ("request_", "limit", "ok"),
    [("500m", 1, True), ("1", "1000m", True), (2, "500m", False), ("1Gi", "1G", False)],
    ids=["cpu-below", "cpu-equal", "cpu-above", "memory-above"],
)
def test_request_may_not_exceed_limit(request_: Any, limit: Any, ok: bool) -> None:
    kind = "memory" if str(request_).endswith("i") else "cpu"
    fields = {f"{kind}_request": request_, f"{kind}_limit": limit}
    if ok:
        KubernetesRun(**fields)
    else:
        assert error_text(KubernetesRun, **fields) == (
            f"KubernetesRun.{kind}_limit: expected at least {kind}_request ({request_!r}), "
            f"got {limit!r}"
        )


def test_huge_exponent_is_refused_not_crashed() -> None:
    assert error_text(KubernetesRun, cpu_limit="1e999999999") == (
        "KubernetesRun.cpu_limit: amount out of range: '1e999999999'"
    )


# --- other field rules -----------------------------------------------------------------

FIELD_RULES: list[tuple[type[RunConfig], dict[str, Any], str]] = [
    (
        KubernetesRun,
        {"image_pull_policy": "Sometimes"},
        "KubernetesRun.image_pull_policy: Input should be 'Always', 'IfNotPresent' or 'Never'",
    ),
    (
        KubernetesRun,
        {"service_account_name": "Flow_Runner"},
        "KubernetesRun.service_account_name: expected a Kubernetes name like 'flow-runner' "
        "(lowercase letters, digits, '-' and '.'), got 'Flow_Runner'",
    ),
    (
        KubernetesRun,
        {"image_pull_secrets": ["regcred", "-bad"]},
        "KubernetesRun.image_pull_secrets[1]: expected a Kubernetes name like 'flow-runner' "
        "(lowercase letters, digits, '-' and '.'), got '-bad'",
    ),
    (
        KubernetesRun,
        {"job_template": 3},
        "KubernetesRun.job_template: expected a Job as a JSON object or YAML text, got 3",
    ),
    (
        DockerRun,
        {"image": "my image"},
        "DockerRun.image: expected an image reference like 'python:3.11-slim', got 'my image'",
    ),
    (
        DockerRun,
        {"ports": [80, 0]},
        "DockerRun.ports[1]: Input should be greater than or equal to 1",
    ),
    (LocalRun, {"working_dir": " "}, "LocalRun.working_dir: expected a non-empty string, got ' '"),
    (
        ECSRun,
        # ECS takes a task role by name too (Prefect 1.x's ECSRun documents it), so only
        # text that is neither a role name nor an ARN is refused
        {"task_role_arn": "flow runner"},
        "ECSRun.task_role_arn: expected an IAM role name like 'flow-runner' or an ARN like "
        "'arn:aws:iam::123456789012:role/flow-runner', got 'flow runner'",
    ),
    (
        ECSRun,
        {"execution_role_arn": "arn:aws:iam::12345:role/x"},
        "ECSRun.execution_role_arn: expected an IAM role ARN like "
        "'arn:aws:iam::123456789012:role/flow-runner', got 'arn:aws:iam::12345:role/x'",
    ),
    (
        ECSRun,
        {"task_definition_arn": "arn:aws:ecs:us-east-1:123456789012:service/flow"},
        "ECSRun.task_definition_arn: expected a task definition ARN like "
        "'arn:aws:ecs:us-east-1:123456789012:task-definition/flow:3' or a family[:revision] "
        "like 'flow:3', got 'arn:aws:ecs:us-east-1:123456789012:service/flow'",
    ),
    (
        ECSRun,
        {"cpu": "lots"},
        "ECSRun.cpu: expected CPU units like 1024 or a string like '1 vCPU', got 'lots'",
    ),
    (
        ECSRun,
        {"cpu": 0},
        "ECSRun.cpu: expected CPU units like 1024 or a string like '1 vCPU', got 0",
    ),
    (
        ECSRun,
        {"memory": "2 gigs"},
        "ECSRun.memory: expected MiB like 2048 or a string like '2 GB', got '2 gigs'",
    ),
    (
        ECSRun,
        {"memory": 1.5},
        "ECSRun.memory: expected MiB like 2048 or a string like '2 GB', got 1.5",
    ),
]


@pytest.mark.parametrize(
    ("model", "fields", "message"),
    FIELD_RULES,
    ids=[f"{m.__name__}-{next(iter(f))}-{i}" for i, (m, f, _) in enumerate(FIELD_RULES)],
)
def test_field_rules(model: type[RunConfig], fields: dict[str, Any], message: str) -> None:
    assert error_text(model, **fields) == message


@pytest.mark.parametrize(
    "fields",
    [
        {"cpu": "1 vCPU"},
        {"cpu": "0.25 vcpu"},
        {"cpu": "2vcpu"},
        {"cpu": "256"},
        {"memory": "2 GB"},
        {"memory": "0.5GB"},
        {"memory": "512"},
        {"task_definition_arn": "flow"},
        {"task_definition_arn": "flow:12"},
        {"task_definition_arn": "arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/f"},
        {"task_role_arn": "arn:aws:iam::123456789012:role/service-role/my.role@x"},
    ],
    ids=lambda f: f"{next(iter(f))}={next(iter(f.values()))}",
)
def test_ecs_values_accepted(fields: dict[str, Any]) -> None:
    assert ECSRun(**fields).model_dump(include=set(fields)) == fields


# --- mutually exclusive fields -----------------------------------------------------------

TASK_DEFINITIONS: dict[str, Any] = {
    "task_definition": {"family": "flow"},
    "task_definition_path": "s3://bucket/task.yaml",
    "task_definition_arn": TASK_DEF_ARN,
}


def exclusive(earlier: str, field: str) -> str:
    return (
        f"ECSRun.{field}: expected at most one of task_definition, task_definition_path and "
        f"task_definition_arn, got {earlier} and {field}"
    )


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        pytest.param((), [], id="none"),
        pytest.param(("task_definition",), [], id="definition"),
        pytest.param(("task_definition_path",), [], id="path"),
        pytest.param(("task_definition_arn",), [], id="arn"),
        pytest.param(
            ("task_definition", "task_definition_path"),
            [exclusive("task_definition", "task_definition_path")],
            id="definition+path",
        ),
        pytest.param(
            ("task_definition", "task_definition_arn"),
            [exclusive("task_definition", "task_definition_arn")],
            id="definition+arn",
        ),
        pytest.param(
            ("task_definition_path", "task_definition_arn"),
            [exclusive("task_definition_path", "task_definition_arn")],
            id="path+arn",
        ),
        pytest.param(
            ("task_definition", "task_definition_path", "task_definition_arn"),
            [
                exclusive("task_definition", "task_definition_path"),
                exclusive("task_definition", "task_definition_arn"),
            ],
            id="all",
        ),
    ],
)
def test_ecs_task_definition_fields_exclusive(given: tuple[str, ...], errors: list[str]) -> None:
    fields = {name: TASK_DEFINITIONS[name] for name in given}
    if not errors:
        config = ECSRun(**fields)
        assert config.model_dump(include=set(fields)) == fields
    else:
        assert error_text(ECSRun, **fields).splitlines() == errors


def test_ecs_registered_definition_fixes_the_image() -> None:
    assert error_text(ECSRun, image="x", task_definition_arn="flow:1") == (
        "ECSRun.task_definition_arn: a registered task definition fixes the image; drop image, "
        "or give task_definition instead"
    )
    ECSRun(image="x", task_definition={"family": "flow"})


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        ({}, True),
        ({"job_template": {"kind": "Job"}}, True),
        # a local path is read when the config is made (tests/compat covers that); a path
        # on the agent's machine is kept for the agent
        ({"job_template_path": "agent:///etc/job.yaml"}, True),
        ({"job_template": {"kind": "Job"}, "job_template_path": "/etc/job.yaml"}, False),
        ({"job_template": "kind: Job", "job_template_path": "/etc/job.yaml"}, False),
    ],
    ids=["none", "template", "path", "both", "yaml-and-path"],
)
def test_kubernetes_template_or_path(fields: dict[str, Any], ok: bool) -> None:
    if ok:
        KubernetesRun(**fields)
    else:
        assert error_text(KubernetesRun, **fields) == (
            "KubernetesRun.job_template_path: expected job_template or job_template_path, not both"
        )


# --- env and labels ---------------------------------------------------------------------

ENV_RULE = (
    "expected variable names like 'API_URL' (letters, digits and '_', not starting with a "
    "digit), got {!r}"
)


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"API_URL": "x", "_private": "y", "a1": ""}, None),
        ({"MY-VAR": "x"}, f"LocalRun.env: {ENV_RULE.format('MY-VAR')}"),
        ({"1ABC": "x"}, f"LocalRun.env: {ENV_RULE.format('1ABC')}"),
        ({"": "x"}, f"LocalRun.env: {ENV_RULE.format('')}"),
        ({"A B": "x"}, f"LocalRun.env: {ENV_RULE.format('A B')}"),
        ({"CAFÉ": "x"}, f"LocalRun.env: {ENV_RULE.format('CAFÉ')}"),
        ({"WORKERS": 4}, "LocalRun.env.WORKERS: Input should be a valid string"),
        ("A=1", "LocalRun.env: Input should be a valid dictionary"),
    ],
    ids=["good", "dash", "digit-first", "empty", "space", "non-ascii", "int-value", "string"],
)
def test_env_names(env: Any, error: str | None) -> None:
    if error is None:
        assert LocalRun(env=env).env == env
    else:
        assert error_text(LocalRun, env=env) == error


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([], []),
        (None, []),
        (["b", "a"], ["a", "b"]),
        ([" gpu ", "gpu", "dev"], ["dev", "gpu"]),
        (("x", "x"), ["x"]),
        ({"k8s", "prod"}, ["k8s", "prod"]),
        (["two words"], ["two words"]),
    ],
    ids=["empty", "null", "sorted", "stripped-deduped", "tuple", "set", "inner-space"],
)
def test_labels_normalized(labels: Any, expected: list[str]) -> None:
    assert UniversalRun(labels=labels).labels == expected
    assert run_config_from_config({"type": "local", "labels": labels}).labels == expected


@pytest.mark.parametrize(
    ("labels", "error"),
    [
        (["ok", "  "], "UniversalRun.labels: expected non-empty labels, got '  '"),
        ([""], "UniversalRun.labels: expected non-empty labels, got ''"),
        ("gpu", "UniversalRun.labels: Input should be a valid list"),
        ([1], "UniversalRun.labels[0]: Input should be a valid string"),
    ],
    ids=["blank", "empty", "bare-string", "number"],
)
def test_bad_labels(labels: Any, error: str) -> None:
    assert error_text(UniversalRun, labels=labels) == error


# --- secrets ---------------------------------------------------------------------------

SECRET_ENV = {
    "API_KEY": "k",
    "db_password": "p",
    "GITHUB_TOKEN": "t",
    "aws_secret_access_key": "s",
    "PGPASSWD": "p2",
    "GOOGLE_APPLICATION_CREDENTIALS_JSON": "c",
    "PATH": "/usr/bin",
    "LOG_LEVEL": "debug",
}
MASKED_ENV = {k: "***" for k in SECRET_ENV} | {"PATH": "/usr/bin", "LOG_LEVEL": "debug"}


@pytest.mark.parametrize("model", list(RUN_CONFIG_TYPES.values()), ids=lambda m: m.__name__)
def test_secrets_masked_for_display_kept_for_agents(model: type[RunConfig]) -> None:
    config = model(env=SECRET_ENV)
    assert config.public_dict()["env"] == MASKED_ENV
    assert config.masked().env == MASKED_ENV
    assert config.model_dump()["env"] == SECRET_ENV
    assert run_config_from_config(config.model_dump_json()).env == SECRET_ENV
    for shown in (repr(config), str(config)):
        assert "'k'" not in shown and "'***'" in shown and "/usr/bin" in shown


def test_secrets_in_templates_masked() -> None:
    env_list: Any = [{"name": "API_TOKEN", "value": "t"}, {"name": "MODE", "value": "fast"}]
    k8s = KubernetesRun(
        job_template={"spec": {"template": {"spec": {"containers": [{"env": env_list}]}}}}
    )
    shown = k8s.public_dict()["job_template"]["spec"]["template"]["spec"]["containers"][0]
    assert shown["env"] == [
        {"name": "API_TOKEN", "value": "***"},
        {"name": "MODE", "value": "fast"},
    ]
    ecs = ECSRun(
        run_task_kwargs={"overrides": {"containerOverrides": [{"environment": env_list}]}},
        task_definition={"containerDefinitions": [{"name": "flow", "environment": env_list}]},
    )
    public = ecs.public_dict()
    assert public["run_task_kwargs"]["overrides"]["containerOverrides"][0]["environment"][0] == {
        "name": "API_TOKEN",
        "value": "***",
    }
    assert public["task_definition"]["containerDefinitions"][0]["environment"][0]["value"] == "***"
    assert public["task_definition"]["containerDefinitions"][0]["name"] == "flow"
    assert ecs.model_dump()["run_task_kwargs"] == ecs.run_task_kwargs  # untouched


def test_repr_shows_only_what_was_set() -> None:
    assert repr(KubernetesRun()) == "KubernetesRun()"
    assert repr(KubernetesRun(image="x", labels=["gpu"], cpu_limit=2)) == (
        "KubernetesRun(labels=['gpu'], image='x', cpu_limit=2)"
    )
    assert str(LocalRun(working_dir="/w")) == "LocalRun(working_dir='/w')"


# --- values: frozen, copies ---------------------------------------------------------------


def test_configs_are_frozen() -> None:
    config = DockerRun(image="a")
    with pytest.raises(ValidationError, match="frozen"):
        config.image = "b"


def test_pydantic_entry_points_keep_structured_errors() -> None:
    # Direct construction raises RunConfigError; model_validate and TypeAdapter (what the
    # server and forms use) keep pydantic's per-field locations.
    with pytest.raises(ValidationError) as info:
        KubernetesRun.model_validate({"memory_request": "4 gigs", "bogus": 1})
    assert [(e["loc"], e["type"]) for e in info.value.errors()] == [
        (("memory_request",), "kubernetes_memory"),
        (("bogus",), "extra_forbidden"),
    ]
    with pytest.raises(ValidationError) as info:
        TypeAdapter(AnyRunConfig).validate_python({"type": "ecs", "cpu": "lots"})
    assert info.value.errors()[0]["loc"] == ("ecs", "cpu")


def test_model_copy_with_update_is_validated() -> None:
    config = KubernetesRun(image="a", memory_limit="1Gi")
    assert config.model_copy(update={"image": "b"}) == KubernetesRun(image="b", memory_limit="1Gi")
    assert config.model_copy() == config
    with pytest.raises(
        RunConfigError, match=r"^KubernetesRun\.memory_limit: expected a Kubernetes"
    ):
        config.model_copy(update={"memory_limit": "lots"})


# --- the parser -------------------------------------------------------------------------

KNOWN = "known: local, docker, kubernetes, ecs, universal"
K8S_FIELDS = (
    "env, labels, image, job_template, job_template_path, cpu_request, cpu_limit, "
    "memory_request, memory_limit, service_account_name, image_pull_secrets, image_pull_policy"
)
# How Prefect 0.14 serialized a run config: class name as type, a version, null env.
PREFECT_JSON = json.dumps(
    {
        "type": "KubernetesRun",
        "__version__": "0.14.22",
        "env": None,
        "labels": ["k8s"],
        "cpu_request": "250m",
        "image_pull_secrets": ["regcred"],
    }
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, UniversalRun(), id="none"),
        pytest.param("local", LocalRun(), id="type-name"),
        pytest.param("  DockerRun \n", DockerRun(), id="prefect-name-text"),
        pytest.param(b'{"type": "ecs", "cpu": 512}', ECSRun(cpu=512), id="bytes"),
        pytest.param(
            {"type": "LocalRun", "working_dir": "/w"}, LocalRun(working_dir="/w"), id="LocalRun"
        ),
        pytest.param({"type": "DockerRun", "image": "x"}, DockerRun(image="x"), id="DockerRun"),
        pytest.param(
            {"type": "KubernetesRun", "cpu_limit": "1"},
            KubernetesRun(cpu_limit="1"),
            id="KubernetesRun",
        ),
        pytest.param({"type": "ECSRun", "memory": "2 GB"}, ECSRun(memory="2 GB"), id="ECSRun"),
        pytest.param(
            {"type": "UniversalRun", "labels": ["a"]}, UniversalRun(labels=["a"]), id="UniversalRun"
        ),
        pytest.param(
            PREFECT_JSON,
            KubernetesRun(labels=["k8s"], cpu_request="250m", image_pull_secrets=["regcred"]),
            id="prefect-serialized",
        ),
    ],
)
def test_parse(value: Any, expected: RunConfig) -> None:
    parsed = run_config_from_config(value)
    assert parsed == expected
    assert type(parsed) is type(expected)


def test_parse_returns_instances_as_they_are() -> None:
    config = LocalRun(working_dir="/w")
    assert run_config_from_config(config) is config


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param({"type": "foo"}, f"unknown run config type 'foo'; {KNOWN}", id="unknown"),
        pytest.param("foo", f"unknown run config type 'foo'; {KNOWN}", id="unknown-name"),
        pytest.param(
            '{"type": "localrun"}',
            f"unknown run config type 'localrun'; did you mean 'local'? {KNOWN}", id="case"
        ),
        pytest.param({"type": 3}, f"unknown run config type 3; {KNOWN}", id="non-string-type"),
        pytest.param({"image": "x"}, f"run config has no 'type'; {KNOWN}", id="no-type"),
        pytest.param(
            '{"type": "local"',
            "run config is not valid JSON: Expecting ',' delimiter at line 1 column 17",
            id="truncated-json",
        ),
        pytest.param(
            "type: local",
            "run config is not valid JSON: Expecting value at line 1 column 1",
            id="yaml-like",
        ),
        pytest.param(
            "", "run config is not valid JSON: Expecting value at line 1 column 1", id="empty"
        ),
        pytest.param(
            '["local"]', 'a run config must be a JSON object, got list: ["local"]', id="json-list"
        ),
        pytest.param(b"\xff", "run config text is not UTF-8: invalid start byte", id="not-utf8"),
        pytest.param(
            42, "a run config must be a dict, JSON text, a type name or a RunConfig, got int: 42",
            id="int"
        ),
        pytest.param(
            {"type": "local", "workdir": "/w"},
            "LocalRun.workdir: unknown field; did you mean 'working_dir'?",
            id="unknown-field-suggestion",
        ),
        pytest.param(
            '{"type": "docker", "volumes": []}',
            "DockerRun.volumes: unknown field; known fields: env, labels, image, ports, "
            "host_config",
            id="unknown-field-list",
        ),
        pytest.param(
            {"type": "kubernetes", "memory_request": "4 gigs"},
            "KubernetesRun.memory_request: expected a Kubernetes quantity like '4Gi', got '4 gigs'",
            id="bad-quantity",
        ),
        pytest.param(
            {"type": "KubernetesRun", "memory_request": "4 gigs", "cpu_limit": "lots", "x": 1},
            "KubernetesRun.cpu_limit: expected a number or a quantity like '500m', got 'lots'\n"
            "KubernetesRun.memory_request: expected a Kubernetes quantity like '4Gi', "
            "got '4 gigs'\n"
            f"KubernetesRun.x: unknown field; known fields: {K8S_FIELDS}",
            id="one-line-per-error",
        ),
    ],
)
def test_parse_errors(value: Any, message: str) -> None:
    with pytest.raises(RunConfigError) as info:
        run_config_from_config(value)
    assert str(info.value) == message


# --- labels: which agent may launch a run -------------------------------------------------

MISSING_GPU = "run needs labels ['gpu'] that agent 'a1' lacks"


@pytest.mark.parametrize(
    ("run_labels", "agent_labels", "agent_name", "explanation"),
    [
        pytest.param([], [], "a1", "", id="none-none"),
        pytest.param([], ["gpu"], "a1", "", id="none-some"),
        pytest.param(["gpu"], ["gpu", "dev"], "a1", "", id="subset"),
        pytest.param([" gpu"], {"gpu"}, "a1", "", id="stripped"),
        pytest.param(["gpu"], [], "a1", MISSING_GPU, id="agent-has-none"),
        pytest.param(["gpu"], ["cpu"], "a1", MISSING_GPU, id="disjoint"),
        pytest.param(
            ["prod", "gpu", "dev"],
            ["dev"],
            "a1",
            "run needs labels ['gpu', 'prod'] that agent 'a1' lacks",
            id="several-missing",
        ),
        pytest.param(
            ["gpu"], ["GPU"], None, "run needs labels ['gpu'] that the agent lacks", id="case"
        ),
    ],
)
def test_labels_match_and_describe_mismatch(
    run_labels: Any, agent_labels: Any, agent_name: str | None, explanation: str
) -> None:
    assert labels_match(run_labels, agent_labels) is (explanation == "")
    assert describe_mismatch(run_labels, agent_labels, agent_name) == explanation


def test_labels_refuse_a_bare_string() -> None:
    # "gpu" would otherwise become {"g", "p", "u"}
    with pytest.raises(TypeError, match="expected a list of labels, got the string 'gpu'"):
        labels_match("gpu", ["gpu"])
