"""Reading configs of every kind (executors, storage, run configs, schedules): one loader.

Each kind declares a :class:`ConfigKind` next to its models. The loader takes what users
and the backend hand over (an instance, a dict, JSON text or bytes, a bare type name) and
gives a validated model, or raises the kind's error (a ``ConfigError``) worded one way:

    unknown executor type 'dusk'; did you mean 'dask'? known: local, local-dask, dask
    DaskExecutor.adress: unknown field; did you mean 'address'?
    run config is not valid JSON: Expecting ',' delimiter at line 1 column 17

A kind's aliases are derived from its models: each model's class name (Prefect 0.14
serialized configs with it) and the names in the model's ``config_aliases`` class variable.

This module sits at the bottom of the layers (it knows pydantic and the error tree only),
so every kind can use it without importing another.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from jupyter_flows.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class ConfigKind(Generic[M]):
    """One kind of config: its models (by ``type`` tag), aliases, default and error.

    ``models`` is called on first use, so a kind's heavier models load only when needed.
    """

    noun: str
    """How messages name the kind: ``executor``, ``storage``, ``run config``, ``schedule``."""
    base: type[M] | tuple[type[M], ...]
    """Instances of these are taken as they are."""
    error: type[ConfigError]
    models: Callable[[], Sequence[type[M]]]
    """The models, in the order messages list them; each has a ``type`` default."""
    default: Callable[[], M] | None = None
    """What ``None`` means; without one, ``None`` is refused."""

    @property
    def what(self) -> str:
        """``executor config``, ``run config``: what a message calls one config."""
        return self.noun if self.noun.endswith("config") else f"{self.noun} config"

    @cached_property
    def types(self) -> dict[str, type[M]]:
        """Each model by its ``type`` tag."""
        return {model.model_fields["type"].default: model for model in self.models()}

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Other names a config's ``type`` may have, each with the tag it stands for."""
        table: dict[str, str] = {}
        for tag, model in self.types.items():
            table[model.__name__] = tag
            for alias in getattr(model, "config_aliases", ()):
                table[alias] = tag
        return table

    def load(self, value: Any) -> M:
        """A validated model from an instance, a dict, JSON text or bytes, or a type name.

        A dict's ``type`` may be a tag or an alias; Prefect's ``__version__`` key is ignored.
        """
        if isinstance(value, self.base):
            return value
        if value is None and self.default is not None:
            return self.default()
        if isinstance(value, str | bytes):
            value = self._parse_text(value)
        if not isinstance(value, Mapping):
            bases = self.base if isinstance(self.base, tuple) else (self.base,)
            raise self.error(
                f"{_a(self.what)} must be a dict, JSON text, a type name or "
                f"{' or '.join(_a(b.__name__) for b in bases)}, got {type(value).__name__}: "
                f"{value!r:.60}")
        data = {key: v for key, v in value.items() if key != "__version__"}
        if "type" not in data:
            raise self.error(f"{self.what} has no 'type'; known: {self._known()}")
        model = self._model_of(data["type"])
        try:
            return model.model_validate({**data, "type": model.model_fields["type"].default})
        except ValidationError as exc:
            raise self.error(describe_validation_error(model, exc)) from None

    def _model_of(self, given: object) -> type[M]:
        tag = self.aliases.get(given, given) if isinstance(given, str) else None
        if isinstance(tag, str) and tag in self.types:
            return self.types[tag]
        hint = ""
        if isinstance(given, str):
            close = _close_tag(given, {**{t: t for t in self.types}, **self.aliases})
            hint = f"; did you mean {close!r}?" if close else ""
        raise self.error(
            f"unknown {self.noun} type {given!r}{hint}{';' if not hint else ''} known: "
            f"{self._known()}")

    def _parse_text(self, text: str | bytes) -> Any:
        if isinstance(text, bytes):
            try:
                text = text.decode()
            except UnicodeDecodeError as exc:
                raise self.error(f"{self.what} text is not UTF-8: {exc.reason}") from None
        stripped = text.strip()
        if _TYPE_NAME.fullmatch(stripped):
            return {"type": stripped}
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise self.error(f"{self.what} is not valid JSON: {exc.msg} at line "
                             f"{exc.lineno} column {exc.colno}") from None
        if not isinstance(value, dict):
            raise self.error(f"{_a(self.what)} must be a JSON object, got "
                             f"{type(value).__name__}: {stripped[:40]}")
        return value

    def _known(self) -> str:
        return ", ".join(self.types)


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0].lower() in "aeiou" else f"a {noun}"


def _close_tag(given: str, names: Mapping[str, str]) -> str | None:
    """The tag whose name (or alias) is closest to ``given``, ignoring case."""
    by_lower = {name.lower(): tag for name, tag in names.items()}
    close = difflib.get_close_matches(given.lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


def describe_validation_error(model: type[BaseModel], exc: ValidationError) -> str:
    """One ``Model.path: rule`` line per pydantic error, for every kind of config.

    The path follows nested models, so an unknown field is matched against the fields of
    the model it was found in (``Schedule.clocks[0].intervall: unknown field; did you mean
    'interval'?``); the ``type`` tag pydantic puts in the path of a tagged union member
    is left out of the path.
    """
    lines = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        path, where = _walk(model, loc)
        message = error["msg"]
        if error["type"] == "value_error":  # a validator's ValueError: its text is the rule
            message = message.removeprefix("Value error, ")
        if error["type"] == "extra_forbidden" and where is not None and loc:
            message = unknown_field(where, str(loc[-1]))
        lines.append(f"{model.__name__}{path}: {message}")
    return "\n".join(lines)


def unknown_field(model: type[BaseModel], name: str) -> str:
    """``unknown field; did you mean 'x'?``, or the known fields when none is close."""
    known = [f for f in model.model_fields if f != "type"]
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown field; did you mean {close[0]!r}?"
    return f"unknown field; known fields: {', '.join(known) or 'none'}"


def _walk(model: type[BaseModel], loc: list[Any]) -> tuple[str, type[BaseModel] | None]:
    """The printed path of ``loc``, and the model holding its last part (None if lost)."""
    parts: list[str] = []
    current: type[BaseModel] | None = model
    members: dict[str, type[BaseModel]] = {}
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(part, int):
            parts.append(f"[{part}]")
            continue
        name = str(part)
        if current is not None and name in current.model_fields and (last or name not in members):
            parts.append(f".{name}")
            if not last:
                members = _members(current.model_fields[name].annotation)
                current = next(iter(members.values())) if len(members) == 1 else None
        elif name in members:
            current = members[name]  # a tagged union member: not part of the path
            members = {}
        else:
            parts.append(f".{name}")
            if not last:
                current, members = None, {}
    return "".join(parts), current


def _members(annotation: Any) -> dict[str, type[BaseModel]]:
    """The models an annotation can hold (through lists, dicts, unions), by ``type`` tag."""
    found: dict[str, type[BaseModel]] = {}
    for model in _models_in(annotation):
        tag = model.model_fields["type"].default if "type" in model.model_fields else None
        found[tag if isinstance(tag, str) else model.__name__] = model
    return found


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)
