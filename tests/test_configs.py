"""One config loader for every kind: the same input mistakes give the same error family and
wording for executors, storage, run configs and schedules (``jupyter_flows.configs``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from jupyter_flows.errors import (
    ConfigError,
    ExecutorConfigError,
    ExecutorError,
    JupyterFlowsError,
    RunConfigError,
    ScheduleError,
    StorageConfigError,
    StorageError,
)
from jupyter_flows.executors import DaskExecutor, LocalDaskExecutor, LocalExecutor
from jupyter_flows.executors.base import executor_from_config
from jupyter_flows.run_configs import KubernetesRun, UniversalRun, run_config_from_config
from jupyter_flows.schedules import CronClock, Schedule, schedule_from_config
from jupyter_flows.storage import S3, Local, storage_from_config


@dataclass(frozen=True)
class Kind:
    what: str                      # how messages name one config
    load: Callable[[Any], Any]
    error: type[ConfigError]
    also: type[Exception]          # what callers caught before, and still may
    good: dict[str, Any]
    expected: Any
    typo: dict[str, Any]
    typo_message: str
    type_typo: str
    type_message: str
    class_name: str                # Prefect's serialized type for ``good``
    known: str

    @property
    def noun(self) -> str:
        return self.what if self.what == "run config" else self.what.removesuffix(" config")


KINDS = [
    Kind("executor config", executor_from_config, ExecutorConfigError, ExecutorError,
         {"type": "dask", "address": "tcp://127.0.0.1:8786"},
         DaskExecutor(address="tcp://127.0.0.1:8786"),
         {"type": "dask", "adress": "tcp://127.0.0.1:8786"},
         "DaskExecutor.adress: unknown field; did you mean 'address'?",
         "dusk", "unknown executor type 'dusk'; did you mean 'dask'? known: local, local-dask, "
         "dask", "DaskExecutor", "local, local-dask, dask"),
    Kind("storage config", storage_from_config, StorageConfigError, StorageError,
         {"type": "s3", "bucket": "flows"}, S3(bucket="flows"),
         {"type": "local", "directroy": "/flows"},
         "Local.directroy: unknown field; did you mean 'directory'?",
         "gitub", "unknown storage type 'gitub'; did you mean 'github'? known: local, s3, "
         "docker, git, github", "S3", "local, s3, docker, git, github"),
    Kind("run config", run_config_from_config, RunConfigError, ValueError,
         {"type": "kubernetes", "image": "flows:1"}, KubernetesRun(image="flows:1"),
         {"type": "kubernetes", "imag": "flows:1"},
         "KubernetesRun.imag: unknown field; did you mean 'image'?",
         "dokcer", "unknown run config type 'dokcer'; did you mean 'docker'? known: local, "
         "docker, kubernetes, ecs, universal", "KubernetesRun",
         "local, docker, kubernetes, ecs, universal"),
    Kind("schedule config", schedule_from_config, ScheduleError, ValueError,
         {"type": "cron", "cron": "0 6 * * *"}, Schedule([CronClock("0 6 * * *")]),
         {"type": "cron", "cron": "0 6 * * *", "day_orr": False},
         "CronClock.day_orr: unknown field; did you mean 'day_or'?",
         "crom", "unknown schedule type 'crom'; did you mean 'cron'? known: schedule, interval, "
         "cron, dates, rrule", "CronClock", "schedule, interval, cron, dates, rrule"),
]
IDS = [kind.what.split()[0] for kind in KINDS]
each_kind = pytest.mark.parametrize("kind", KINDS, ids=IDS)


def error_of(kind: Kind, value: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        kind.load(value)
    error = info.value
    # one family: the kind's own error, which callers of each loader already caught
    assert type(error) is kind.error
    assert isinstance(error, kind.also | JupyterFlowsError | ValueError)
    return error


@each_kind
def test_a_dict_json_text_and_bytes_load_alike(kind: Kind) -> None:
    import json

    text = json.dumps(kind.good)
    for value in (kind.good, text, text.encode(), f"  {text}\n"):
        assert kind.load(value) == kind.expected


@each_kind
def test_prefect_class_names_and_version_keys_load(kind: Kind) -> None:
    value = {**kind.good, "type": kind.class_name, "__version__": "0.14.22"}
    assert kind.load(value) == kind.expected


@each_kind
def test_an_instance_passes_through(kind: Kind) -> None:
    assert kind.load(kind.expected) is kind.expected


@each_kind
def test_an_unknown_field_names_the_model_and_the_close_field(kind: Kind) -> None:
    assert str(error_of(kind, kind.typo)) == kind.typo_message


@each_kind
def test_an_unknown_type_suggests_the_close_one(kind: Kind) -> None:
    assert str(error_of(kind, {"type": kind.type_typo})) == kind.type_message
    assert str(error_of(kind, kind.type_typo)) == kind.type_message  # a bare name


@each_kind
def test_an_unknown_type_with_nothing_close_lists_the_known(kind: Kind) -> None:
    message = str(error_of(kind, {"type": "zzzz"}))
    assert message == f"unknown {kind.noun} type 'zzzz'; known: {kind.known}"
    assert str(error_of(kind, {"type": 3})).startswith(f"unknown {kind.noun} type 3; known:")


@pytest.mark.parametrize(("text", "message"), [
    pytest.param('{"type": "local"', "is not valid JSON: Expecting ',' delimiter at line 1 "
                 "column 17", id="truncated"),
    pytest.param("{not json", "is not valid JSON: Expecting property name enclosed in double "
                 "quotes at line 1 column 2", id="not-json"),
    pytest.param("type: local", "is not valid JSON: Expecting value at line 1 column 1",
                 id="yaml-like"),
    pytest.param("", "is not valid JSON: Expecting value at line 1 column 1", id="empty"),
])
@each_kind
def test_malformed_json_reads_the_same_for_every_kind(kind: Kind, text: str,
                                                      message: str) -> None:
    assert str(error_of(kind, text)) == f"{kind.what} {message}"


@each_kind
def test_other_shapes_are_refused_naming_the_kind(kind: Kind) -> None:
    article = "an" if kind.what[0] in "aeiou" else "a"
    assert str(error_of(kind, '["x"]')) == (
        f"{article} {kind.what} must be a JSON object, got list: [\"x\"]")
    assert str(error_of(kind, b"\xff")) == f"{kind.what} text is not UTF-8: invalid start byte"
    assert str(error_of(kind, {"image": "x"})) == (
        f"{kind.what} has no 'type'; known: {kind.known}")
    assert str(error_of(kind, 42)).startswith(
        f"{article} {kind.what} must be a dict, JSON text, a type name or ")


@pytest.mark.parametrize(("load", "default"), [
    (executor_from_config, LocalExecutor()),
    (storage_from_config, Local()),
    (run_config_from_config, UniversalRun()),
])
def test_none_is_the_kinds_default(load: Callable[[Any], Any], default: Any) -> None:
    assert load(None) == default


def test_a_schedule_has_no_default() -> None:
    with pytest.raises(ScheduleError, match="got NoneType"):
        schedule_from_config(None)  # type: ignore[arg-type]


def test_aliases_are_declared_on_the_models() -> None:
    assert executor_from_config({"type": "local_dask", "scheduler": "sync"}) == \
        LocalDaskExecutor("sync")
    assert LocalDaskExecutor.config_aliases == ("local_dask",)


def test_nested_unknown_fields_are_matched_in_the_model_they_are_in() -> None:
    config = {"type": "schedule", "clocks": [{"type": "interval", "interval": "PT1H"},
                                             {"type": "cron", "cron": "* * * * *", "dayor": 1}]}
    with pytest.raises(ScheduleError) as info:
        schedule_from_config(config)
    assert str(info.value) == "Schedule.clocks[1].dayor: unknown field; did you mean 'day_or'?"


def test_every_problem_gets_its_own_line() -> None:
    with pytest.raises(ExecutorConfigError) as info:
        executor_from_config({"type": "local-dask", "scheduler": "gpu", "num_workrs": 2})
    assert str(info.value).splitlines() == [
        "LocalDaskExecutor.scheduler: Input should be 'threads', 'processes' or 'sync'",
        "LocalDaskExecutor.num_workrs: unknown field; did you mean 'num_workers'?",
    ]


def test_a_validators_rule_reads_without_pydantics_prefix() -> None:
    with pytest.raises(ExecutorConfigError) as info:
        executor_from_config({"type": "dask", "cluster_class": "not a path"})
    assert str(info.value) == ("DaskExecutor.cluster_class: expected an import path like "
                               "'distributed.LocalCluster', got 'not a path'")
    with pytest.raises(ExecutorConfigError, match="give an address or a cluster_class"):
        executor_from_config({"type": "dask", "address": "tcp://a:1",
                              "cluster_class": "distributed.LocalCluster"})


def test_config_errors_keep_the_names_callers_catch() -> None:
    assert issubclass(ExecutorConfigError, ExecutorError)
    assert issubclass(StorageConfigError, StorageError)
    for error in (ExecutorConfigError, StorageConfigError, RunConfigError, ScheduleError):
        assert issubclass(error, ConfigError)
        assert issubclass(error, ValueError)
    # starting a cluster is not a config problem: plain ExecutorError stays outside
    assert not issubclass(ExecutorError, ConfigError)
    assert not issubclass(StorageError, ConfigError)
