"""Flow payloads: the bytes a storage keeps for one flow, and turning them back into a Flow.

A payload is self-describing, so a loader can name the flow and the cause when it fails::

    jupyter-flows payload 1\\n
    {"flow": "etl", "format": "cloudpickle", "sha256": ..., "spec_hash": ..., "spec": {...},
     "python": "3.11.7", "cloudpickle": "3.1.3"}\\n
    <body>

The body is either the Flow pickled with cloudpickle (functions and classes defined in
``__main__`` or a notebook travel by value; imported modules by reference unless listed in
``pickle_by_value_modules``), or a script's source (``"format": "script"``), which is run in
a fresh module namespace on load; the flow whose name matches is the one returned.
"""

from __future__ import annotations

import contextvars
import hashlib
import importlib
import io
import json
import linecache
import pickle
import platform
import sys
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle

from jupyter_flows.api.flow_spec import FlowSpec, flow_spec, spec_hash
from jupyter_flows.core.flow import Flow
from jupyter_flows.errors import StorageError

MAGIC = b"jupyter-flows payload 1\n"
SCRIPT_MODULE = "__jupyter_flows_script__"
"""``__name__`` of a stored script while it is loaded, so its ``__main__`` block does not run."""


@dataclass(frozen=True)
class Payload:
    """The bytes to store for one flow, and a file name unique to its spec and content."""

    data: bytes
    flow_name: str
    spec_hash: str
    digest: str

    @property
    def file_name(self) -> str:
        # same spec and same bytes -> same name (storing twice is idempotent);
        # changed code under an unchanged spec -> a new name, so old runs keep their code
        return f"{self.spec_hash[:16]}-{self.digest[:16]}.flow"


def slugify(name: str) -> str:
    """A file- and key-safe form of a flow name: ``"My ETL!"`` -> ``"my-etl"``."""
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in name.lower())
    return "-".join(part for part in slug.split("-") if part) or "flow"


# --------------------------------------------------------------------------- writing
def pickle_payload(flow: Flow, pickle_by_value_modules: Iterable[str] = ()) -> Payload:
    """A payload holding ``flow`` pickled with cloudpickle."""
    spec = flow_spec(flow)
    buffer = io.BytesIO()
    try:
        with _pickled_by_value(pickle_by_value_modules):
            _FlowPickler(buffer, protocol=cloudpickle.DEFAULT_PROTOCOL).dump(flow)
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(
            f"flow {flow.name!r} cannot be pickled: {type(exc).__name__}: {exc}. Tasks must not"
            " hold open files, connections or locks; create those inside the task's run"
        ) from exc
    return _payload(flow.name, spec, "cloudpickle", buffer.getvalue(), {})


def script_payload(flow: Flow, script: str | Path) -> Payload:
    """A payload holding the source of ``script``, which must build ``flow`` when run."""
    path = Path(script).expanduser()
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise StorageError(
            f"cannot read the script of flow {flow.name!r} at {path}: {exc.strerror or exc}"
        ) from None
    return _payload(flow.name, flow_spec(flow), "script", source, {"script": str(path)})


def _payload(name: str, spec: FlowSpec, fmt: str, body: bytes,
             extra: dict[str, Any]) -> Payload:
    digest = hashlib.sha256(body).hexdigest()
    header = {
        "flow": name,
        "format": fmt,
        "sha256": digest,
        "spec_hash": spec_hash(spec),
        "spec": spec.as_json(),
        "python": platform.python_version(),
        "cloudpickle": cloudpickle.__version__,
        **extra,
    }
    data = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + body
    return Payload(data, name, header["spec_hash"], digest)


class _FlowPickler(cloudpickle.Pickler):
    """cloudpickle, except that contextvar tokens (kept by ``with Flow(...)``) become None."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, contextvars.Token):
            return type(None), ()
        return super().reducer_override(obj)


@contextmanager
def _pickled_by_value(names: Iterable[str]) -> Iterator[None]:
    """Register modules with cloudpickle's pickle-by-value registry for one dump."""
    registered = []
    try:
        for name in names:
            try:
                module = importlib.import_module(name)
            except ImportError as exc:
                raise StorageError(
                    f"pickle_by_value_modules lists {name!r}, which cannot be imported here: {exc}"
                ) from None
            if name not in cloudpickle.list_registry_pickle_by_value():
                cloudpickle.register_pickle_by_value(module)
                registered.append(module)
        yield
    finally:
        for module in registered:
            cloudpickle.unregister_pickle_by_value(module)


# --------------------------------------------------------------------------- reading
def read_header(data: bytes, where: str) -> tuple[dict[str, Any], bytes]:
    """The header and body of a payload; checks the magic line and the checksum."""
    if not data.startswith(MAGIC):
        raise StorageError(
            f"{where} is not a jupyter-flows flow payload: it does not start with"
            f" {MAGIC.decode().strip()!r} (was it written by a jupyter-flows storage?)"
        )
    header_line, newline, body = data[len(MAGIC):].partition(b"\n")
    try:
        header = json.loads(header_line) if newline else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or not {"flow", "format", "sha256"} <= header.keys():
        raise StorageError(f"the flow payload at {where} is corrupt: its header is unreadable")
    if hashlib.sha256(body).hexdigest() != header["sha256"]:
        raise StorageError(
            f"the payload of flow {header['flow']!r} at {where} is corrupt: its checksum does"
            " not match (truncated, or changed since it was stored)"
        )
    return header, body


def load_payload(data: bytes, where: str) -> Flow:
    """The Flow in a payload read from ``where`` (a path or URL, used in error messages)."""
    header, body = read_header(data, where)
    name = header["flow"]
    if header["format"] == "cloudpickle":
        return _unpickle(name, body, where, header)
    if header["format"] == "script":
        filename = header.get("script") or where
        try:
            source = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StorageError(
                f"the script of flow {name!r} at {where} is not UTF-8: {exc}"
            ) from None
        return flow_from_script(source, filename, name)
    raise StorageError(
        f"flow {name!r} at {where} has payload format {header['format']!r}; this version of"
        " jupyter-flows reads 'cloudpickle' and 'script'"
    )


def _unpickle(name: str, body: bytes, where: str, header: dict[str, Any]) -> Flow:
    try:
        flow = pickle.loads(body)
    except ModuleNotFoundError as exc:
        raise StorageError(
            f"flow {name!r} needs module {exc.name!r}, which is not installed where it is being"
            " loaded; install it, or register it with pickle_by_value_modules"
        ) from None
    except Exception as exc:
        raise StorageError(
            f"cannot unpickle flow {name!r} from {where}: {type(exc).__name__}: {exc}"
            f"{_version_hint(header)}"
        ) from exc
    if not isinstance(flow, Flow):
        raise StorageError(f"the payload at {where} holds {type(flow).__name__}, not a Flow")
    return flow


def _version_hint(header: dict[str, Any]) -> str:
    stored = str(header.get("python", ""))
    here = platform.python_version()
    if stored.split(".")[:2] != here.split(".")[:2]:
        return (f" (it was stored with Python {stored} and is loaded with {here};"
                " pickled code needs the same Python minor version)")
    if header.get("cloudpickle") != cloudpickle.__version__:
        return (f" (it was stored with cloudpickle {header.get('cloudpickle')} and is loaded"
                f" with {cloudpickle.__version__})")
    return ""


def flow_from_script(source: str, filename: str, flow_name: str) -> Flow:
    """Run a script's source in a fresh namespace and return its flow named ``flow_name``."""
    namespace = run_script(source, filename, flow_name)
    flows = list({id(v): v for v in namespace.values() if isinstance(v, Flow)}.values())
    matching = [f for f in flows if f.name == flow_name]
    if len(matching) == 1:
        return matching[0]
    if matching:
        raise StorageError(
            f"script {filename} defines {len(matching)} flows named {flow_name!r};"
            " give them distinct names"
        )
    found = ", ".join(repr(f.name) for f in flows) or "none"
    raise StorageError(
        f"script {filename} defines no flow named {flow_name!r}; flows found: {found}"
    )


def run_script(source: str, filename: str, flow_name: str) -> dict[str, Any]:
    """Execute a script as a fresh module, as ``runpy.run_path`` does, from its stored source.

    The module is in ``sys.modules`` only while it runs (dataclasses and typing look it up),
    so functions it defines are later pickled by value, like those of ``__main__``.
    """
    module = types.ModuleType(SCRIPT_MODULE)
    module.__file__ = filename
    # tracebacks show the stored source even where the original file does not exist
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    previous = sys.modules.get(SCRIPT_MODULE)
    sys.modules[SCRIPT_MODULE] = module
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    except ModuleNotFoundError as exc:
        raise StorageError(
            f"flow {flow_name!r} needs module {exc.name!r}, which is not installed where it is"
            f" being loaded (its script {filename} imports it); install it here"
        ) from None
    except Exception as exc:
        raise StorageError(
            f"running the script of flow {flow_name!r} ({filename}) raised"
            f" {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        if previous is None:
            sys.modules.pop(SCRIPT_MODULE, None)
        else:
            sys.modules[SCRIPT_MODULE] = previous
    return module.__dict__
