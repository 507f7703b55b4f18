"""Storage: Local files and S3 (a real moto server), loaded back here and in fresh processes."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from fake_aws import moto_server

from jupyter_flows import Flow, Parameter, task
from jupyter_flows.api.flow_spec import flow_spec
from jupyter_flows.errors import StorageError
from jupyter_flows.storage import S3, Local, Storage, storage_from_config
from jupyter_flows.storage.payload import read_header

PYTHON = sys.executable  # the venv's python, which has jupyter_flows installed


@task
def add(x: int, y: int) -> int:
    return x + y


def squared(x: int) -> int:
    return x * x


@task
def square(x: int) -> int:
    # cloudpickle copies @task functions by value (the module's name ``square`` is the Task,
    # not the function) but refers to plain helpers like this one by module and name
    return squared(x)


def build_flow(name: str = "sums") -> Flow:
    with Flow(name) as flow:
        n = Parameter("n", default=3)
        squares = square.map(n_range(n))
        add(total(squares), 1)
    return flow


@task
def n_range(n: int) -> list[int]:
    return list(range(n))


@task
def total(values: list[int]) -> int:
    return sum(values)


def result_of(flow: Flow, task_name: str, /, **parameters: Any) -> Any:
    state = flow.run(parameters=parameters)
    assert state.is_successful(), state
    [t] = [t for t in flow.tasks if t.name == task_name and not flow.downstream_tasks(t)]
    return state.result[t].result


def run_python(args: list[str], cwd: Path, *, check: bool = True) -> str:
    """Run a fresh interpreter that cannot import the tests; return its stdout (or stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # conftest exports it
    done = subprocess.run([PYTHON, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    if not check:
        assert done.returncode != 0, done.stdout
        return done.stderr
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# A fresh process playing the agent: storage config + location in, the flow's result out.
LOAD_AND_RUN = textwrap.dedent("""
    import json, sys
    from jupyter_flows.storage import storage_from_config

    storage = storage_from_config(sys.argv[1])
    flow = storage.get_flow(sys.argv[2])
    state = flow.run(parameters=json.loads(sys.argv[3]))
    [t] = [t for t in flow.tasks if t.name == sys.argv[4] and not flow.downstream_tasks(t)]
    print(json.dumps({"state": state.name, "result": state.result[t].result}))
""")


def load_and_run(storage: Storage, location: str, parameters: dict[str, Any], task_name: str,
                 cwd: Path, *, check: bool = True) -> Any:
    out = run_python(["-c", LOAD_AND_RUN, storage.model_dump_json(), location,
                      json.dumps(parameters), task_name], cwd, check=check)
    return json.loads(out.splitlines()[-1]) if check else out


# ----------------------------------------------------------------------------- Local
def test_local_round_trip(tmp_path: Path) -> None:
    storage = Local(directory=str(tmp_path / "flows"))
    flow = build_flow("My Sums!")
    location = storage.add_flow(flow)

    assert Path(location).parent == tmp_path / "flows" / "my-sums"
    assert location.endswith(".flow") and storage.exists(location)
    assert storage.add_flow(flow) == location  # same flow, same bytes: same file
    loaded = storage.get_flow(location)
    assert loaded is not flow and loaded.name == "My Sums!"
    assert flow_spec(loaded) == flow_spec(flow)
    assert result_of(loaded, "add", n=4) == 0 + 1 + 4 + 9 + 1

    header, _ = read_header(Path(location).read_bytes(), location)
    assert header["format"] == "cloudpickle" and header["spec"] == flow_spec(flow).as_json()


def test_local_path_names_the_exact_file(tmp_path: Path) -> None:
    target = tmp_path / "exact" / "sums.flow"
    location = Local(path=str(target)).add_flow(build_flow())
    assert location == str(target)
    assert result_of(Local().get_flow(location), "add") == 0 + 1 + 4 + 1


def test_flow_from_main_runs_in_another_fresh_process(tmp_path: Path) -> None:
    script = tmp_path / "pipeline.py"
    script.write_text(textwrap.dedent("""
        import sys
        from jupyter_flows import Flow, Parameter, Task, task
        from jupyter_flows.storage import Local

        OFFSET = 100  # a __main__ global the task reads: pickled with the function

        @task
        def spread(n):
            return list(range(n))

        @task
        def double(x):
            return 2 * x

        class AddOffset(Task):  # a Task class defined in __main__
            def run(self, values):
                return sum(values) + OFFSET

        with Flow("main-flow") as flow:
            n = Parameter("n", default=3)
            AddOffset(name="offset")(double.map(spread(n)))

        if __name__ == "__main__":
            print(Local(directory=sys.argv[1]).add_flow(flow))
    """))
    directory = tmp_path / "flows"
    location = run_python([str(script), str(directory)], tmp_path).splitlines()[-1]
    script.unlink()  # the agent's host has no copy of the script

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outcome = load_and_run(Local(directory=str(directory)), location, {"n": 4}, "offset",
                           elsewhere)
    assert outcome == {"state": "Success", "result": 2 * (0 + 1 + 2 + 3) + 100}


def test_flow_from_this_module_runs_elsewhere_with_pickle_by_value(tmp_path: Path) -> None:
    by_reference = Local(directory=str(tmp_path)).add_flow(build_flow())
    error = load_and_run(Local(), by_reference, {}, "add", tmp_path, check=False)
    assert f"StorageError: flow 'sums' needs module '{__name__}'" in error

    storage = Local(directory=str(tmp_path), pickle_by_value_modules=[__name__])
    location = storage.add_flow(build_flow())
    assert __name__ not in cloudpickle.list_registry_pickle_by_value()  # unregistered again
    outcome = load_and_run(storage, location, {"n": 2}, "add", tmp_path)
    assert outcome == {"state": "Success", "result": 0 + 1 + 1}


HELPER = "jf_storage_test_helper"

STORE_WITH_HELPER = textwrap.dedent(f"""
    import sys
    sys.path.insert(0, sys.argv[2])  # the helper is importable only in this process
    import {HELPER} as helper
    from jupyter_flows import Flow, task
    from jupyter_flows.storage import Local

    with Flow("needs-helper") as flow:
        task(helper.triple)(5)
    print(Local(directory=sys.argv[1], pickle_by_value_modules=sys.argv[3:]).add_flow(flow))
""")


@pytest.fixture
def helper_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "modules"
    folder.mkdir()
    (folder / f"{HELPER}.py").write_text("def triple(x):\n    return 3 * x\n")
    return folder


def test_missing_module_error_names_the_flow_and_module(tmp_path: Path, helper_dir: Path) -> None:
    store = ["-c", STORE_WITH_HELPER, str(tmp_path / "flows"), str(helper_dir)]
    location = run_python(store, tmp_path).splitlines()[-1]

    with pytest.raises(StorageError) as info:
        Local().get_flow(location)
    assert str(info.value) == (
        f"flow 'needs-helper' needs module '{HELPER}', which is not installed where it is"
        " being loaded; install it, or register it with pickle_by_value_modules"
    )


def test_pickle_by_value_modules_carry_the_module(tmp_path: Path, helper_dir: Path) -> None:
    store = ["-c", STORE_WITH_HELPER, str(tmp_path / "flows"), str(helper_dir), HELPER]
    location = run_python(store, tmp_path).splitlines()[-1]

    flow = Local().get_flow(location)
    assert HELPER not in sys.modules
    assert result_of(flow, "triple") == 15


def test_pickle_by_value_module_must_be_importable(tmp_path: Path) -> None:
    storage = Local(directory=str(tmp_path), pickle_by_value_modules=["no_such_module_jf"])
    with pytest.raises(StorageError, match="pickle_by_value_modules lists 'no_such_module_jf'"):
        storage.add_flow(build_flow())


SCRIPT = textwrap.dedent("""
    from jupyter_flows import Flow, Parameter, task

    @task
    def greet(name):
        return f"hello {name}"

    with Flow("greeter") as flow:
        greet(Parameter("name", default="world"))

    with Flow("other") as other:
        greet("x")

    if __name__ == "__main__":
        raise SystemExit("the __main__ block must not run when the flow is loaded")
""")


def test_stored_as_script_copies_and_runs_the_script(tmp_path: Path) -> None:
    script = tmp_path / "greeter.py"
    script.write_text(SCRIPT)
    flow = runpy.run_path(str(script))["flow"]
    storage = Local(directory=str(tmp_path / "flows"), stored_as_script=True, path=str(script))
    location = storage.add_flow(flow)
    script.write_text("raise RuntimeError('the original script is not read again')")

    header, body = read_header(Path(location).read_bytes(), location)
    assert header["format"] == "script" and body.decode() == SCRIPT
    loaded = storage.get_flow(location)
    assert loaded.name == "greeter"
    assert result_of(loaded, "greet", name="agent") == "hello agent"

    outcome = load_and_run(storage, location, {"name": "there"}, "greet", tmp_path)
    assert outcome == {"state": "Success", "result": "hello there"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (SCRIPT.replace('"greeter"', '"renamed"'),
         "defines no flow named 'greeter'; flows found: 'renamed', 'other'"),
        (SCRIPT.replace('"other"', '"greeter"'), "defines 2 flows named 'greeter'"),
        ("import jf_not_installed_anywhere\n",
         "flow 'greeter' needs module 'jf_not_installed_anywhere'"),
        ("1 / 0\n", "running the script of flow 'greeter' .* raised ZeroDivisionError"),
    ],
    ids=["no-match", "two-match", "missing-module", "raises"],
)
def test_script_load_errors(tmp_path: Path, source: str, message: str) -> None:
    script = tmp_path / "greeter.py"
    script.write_text(SCRIPT)
    flow = runpy.run_path(str(script))["flow"]
    script.write_text(source)  # the stored copy no longer builds the flow as it did
    storage = Local(directory=str(tmp_path), stored_as_script=True, path=str(script))
    location = storage.add_flow(flow)
    with pytest.raises(StorageError, match=message):
        storage.get_flow(location)


def test_stored_as_script_needs_a_readable_script(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"needs path=, the script that builds flow 'sums'"):
        Local(directory=str(tmp_path), stored_as_script=True).add_flow(build_flow())
    missing = tmp_path / "gone.py"
    with pytest.raises(StorageError, match=f"cannot read the script of flow 'sums' at {missing}"):
        Local(stored_as_script=True, path=str(missing)).add_flow(build_flow())


def test_missing_file_error_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "sums" / "nothing.flow"
    storage = Local(directory=str(tmp_path))
    assert not storage.exists(str(missing))
    with pytest.raises(StorageError, match=f"no flow is stored at {missing}: the file does not"):
        storage.get_flow(str(missing))


def test_corrupt_payloads_are_reported(tmp_path: Path) -> None:
    storage = Local(directory=str(tmp_path))
    location = Path(storage.add_flow(build_flow()))
    data = location.read_bytes()

    location.write_bytes(data[:-10])
    with pytest.raises(StorageError, match=r"payload of flow 'sums' .* is corrupt: its checksum"):
        storage.get_flow(str(location))

    location.write_bytes(b"\x80\x05 some other pickle")
    with pytest.raises(StorageError, match="is not a jupyter-flows flow payload"):
        storage.get_flow(str(location))

    location.write_bytes(data[:40])
    with pytest.raises(StorageError, match="is corrupt: its header is unreadable"):
        storage.get_flow(str(location))


def test_unpicklable_flow_is_reported(tmp_path: Path) -> None:
    @task
    def use(lock: Any) -> None:
        pass

    with Flow("locked") as flow:
        use(threading.Lock())
    with pytest.raises(StorageError, match="flow 'locked' cannot be pickled: TypeError"):
        Local(directory=str(tmp_path)).add_flow(flow)


# -------------------------------------------------------------------------------- S3
@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A real moto S3 server on a free local port, for this module's tests."""
    with moto_server() as url:
        yield url


@pytest.fixture
def s3_options(moto_url: str) -> dict[str, Any]:
    return {"endpoint_url": moto_url, "region_name": "us-east-1",
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def bucket(s3_options: dict[str, Any]) -> str:
    import boto3

    name = f"flows-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", **s3_options).create_bucket(Bucket=name)
    return name


def test_s3_round_trip(tmp_path: Path, bucket: str, s3_options: dict[str, Any]) -> None:
    storage = S3(bucket=bucket, client_options=s3_options, pickle_by_value_modules=[__name__])
    flow = build_flow("S3 Sums")
    flow.storage = storage  # a flow carrying its storage still pickles
    location = storage.add_flow(flow)

    assert location.startswith("jupyter-flows/s3-sums/") and location.endswith(".flow")
    assert storage.exists(location) and not storage.exists(location + ".missing")
    assert result_of(storage.get_flow(location), "add", n=3) == 0 + 1 + 4 + 1
    outcome = load_and_run(storage, location, {"n": 4}, "add", tmp_path)
    assert outcome == {"state": "Success", "result": 0 + 1 + 4 + 9 + 1}


def test_s3_explicit_key(bucket: str, s3_options: dict[str, Any]) -> None:
    storage = S3(bucket=bucket, key="team/sums.flow", client_options=s3_options)
    assert storage.add_flow(build_flow()) == "team/sums.flow"
    assert storage.get_flow("team/sums.flow").name == "sums"


def test_s3_missing_object_names_bucket_and_key(bucket: str, s3_options: dict[str, Any]) -> None:
    storage = S3(bucket=bucket, client_options=s3_options)
    with pytest.raises(StorageError) as info:
        storage.get_flow("jupyter-flows/sums/nothing.flow")
    assert str(info.value) == (
        f"no flow is stored at s3://{bucket}/jupyter-flows/sums/nothing.flow: bucket"
        f" {bucket!r} has no object with key 'jupyter-flows/sums/nothing.flow' (NoSuchKey)"
    )

    gone = S3(bucket="no-such-bucket-jf", client_options=s3_options)
    with pytest.raises(StorageError, match="bucket 'no-such-bucket-jf' does not exist"):
        gone.get_flow("k.flow")
    with pytest.raises(StorageError, match="cannot store flow 'sums': S3 bucket 'no-such-bucket"):
        gone.add_flow(build_flow())


def test_s3_stored_as_script(tmp_path: Path, bucket: str, s3_options: dict[str, Any]) -> None:
    script = tmp_path / "greeter.py"
    script.write_text(SCRIPT)
    flow = runpy.run_path(str(script))["flow"]
    storage = S3(bucket=bucket, client_options=s3_options, stored_as_script=True,
                 local_script_path=str(script))
    location = storage.add_flow(flow)
    script.unlink()

    assert result_of(storage.get_flow(location), "greet", name="s3") == "hello s3"
    with pytest.raises(StorageError, match="needs local_script_path="):
        S3(bucket=bucket, stored_as_script=True).add_flow(flow)


# --------------------------------------------------------------------------- configs
@pytest.mark.parametrize(
    "storage",
    [
        Local(),
        Local(directory="/srv/flows", pickle_by_value_modules=["helpers"]),
        Local(stored_as_script=True, path="flows/etl.py"),
        S3(bucket="b"),
        S3(bucket="b", key="k.flow", client_options={"endpoint_url": "http://x:9000"},
           stored_as_script=True, local_script_path="etl.py"),
    ],
    ids=repr,
)
def test_configs_round_trip_through_json(storage: Storage) -> None:
    text = storage.model_dump_json()
    assert storage_from_config(text) == storage
    assert storage_from_config(json.loads(text)) == storage
    assert storage_from_config(storage) is storage
    assert json.loads(text)["type"] == storage.type


def test_config_shortcuts() -> None:
    assert storage_from_config(None) == Local()
    assert storage_from_config("local") == Local()
    assert storage_from_config({"type": "S3", "bucket": "b"}) == S3(bucket="b")
    assert set(S3.model_json_schema()["properties"]) >= {"type", "bucket", "client_options"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "gcs", "bucket": "b"}, "unknown storage type 'gcs'; known: local, s3"),
        ({"bucket": "b"}, "storage config has no 'type'; known: local, s3"),
        ("s3", "S3.bucket: Field required"),
        ({"type": "local", "directroy": "x"},
         "Local.directroy: unknown field; did you mean 'directory'?"),
        ("{not json", "storage config is not valid JSON: Expecting property name"),
        (42, "a storage config must be a dict, JSON text, a type name or a Storage, got int"),
    ],
)
def test_bad_configs_are_named(config: Any, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        storage_from_config(config)
