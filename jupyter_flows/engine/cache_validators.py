"""Cache validators: may a cached state from an earlier run stand in for running again?

Each takes ``(cached_state, inputs, parameters)``. A successful state remembers, in
``cached_inputs``, its expiry and tokens (dask's ``tokenize``) of its inputs and parameters,
so comparing does not keep old inputs alive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_flows.engine.states import State

Validator = Callable[["State", Mapping[str, Any], Mapping[str, Any]], bool]


def token(value: Any) -> str:
    """A deterministic hash of ``value``; the same data gives the same token across runs."""
    from dask.base import tokenize

    return tokenize(value, ensure_deterministic=False)


def cache_record(inputs: Mapping[str, Any], parameters: Mapping[str, Any],
                 cache_for: float) -> dict[str, Any]:
    return {
        "expires": time.time() + cache_for,
        "inputs": {k: token(v) for k, v in inputs.items()},
        "parameters": token(dict(sorted(parameters.items()))),
        "parameter_values": {k: token(v) for k, v in parameters.items()},
    }


def _record(state: State) -> dict[str, Any] | None:
    record = state.cached_inputs
    if not record or record.get("expires", 0) < time.time():
        return None
    return record


def never_use(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    return False


def duration_only(state: State, inputs: Mapping[str, Any],
                  parameters: Mapping[str, Any]) -> bool:
    """Valid until ``cache_for`` has passed, whatever the inputs (the default)."""
    return _record(state) is not None


def all_inputs(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Valid while not expired and every input is the same as when cached."""
    record = _record(state)
    if record is None:
        return False
    return record["inputs"] == {k: token(v) for k, v in inputs.items()}


def all_parameters(state: State, inputs: Mapping[str, Any],
                   parameters: Mapping[str, Any]) -> bool:
    """Valid while not expired and the flow run's parameters are the same as when cached."""
    record = _record(state)
    return record is not None and record["parameters"] == token(dict(sorted(parameters.items())))


def partial_inputs_only(validate_on: Iterable[str]) -> Validator:
    """Valid while not expired and the named inputs are the same as when cached."""
    names = list(validate_on)

    def validator(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
        record = _record(state)
        if record is None:
            return False
        return all(record["inputs"].get(n) == token(inputs.get(n)) for n in names)

    validator.__name__ = f"partial_inputs_only({names})"
    return validator


def partial_parameters_only(validate_on: Iterable[str]) -> Validator:
    """Valid while not expired and the named parameters are the same as when cached."""
    names = list(validate_on)

    def validator(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
        record = _record(state)
        if record is None:
            return False
        cached = record.get("parameter_values", {})
        return all(cached.get(n) == token(parameters.get(n)) for n in names)

    validator.__name__ = f"partial_parameters_only({names})"
    return validator
