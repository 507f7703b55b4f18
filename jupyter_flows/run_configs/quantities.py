"""Resource amounts: the Kubernetes quantity grammar, and the CPU/memory forms ECS accepts.

Kubernetes (``k8s.io/apimachinery/pkg/api/resource``)::

    quantity  ::= sign? number suffix?
    number    ::= digits | digits "." digits? | "." digits
    suffix    ::= binarySI | decimalSI | ("e" | "E") sign? digits
    binarySI  ::= Ki | Mi | Gi | Ti | Pi | Ei                (powers of 1024)
    decimalSI ::= n | u | m | k | M | G | T | P | E          (powers of 1000; "" is 1)

The documented grammar allows a signed decimal after "e", but the parser only reads an
integer exponent, and it also accepts "n" and "u"; the pattern below follows the parser.
Requests and limits cannot be negative, and for memory "m", "u" and "n" mean fractions of
a byte ("512m" is 0.512 bytes), always a typo for "512Mi" or "512M"; both are rejected
with a message that says so.

ECS: CPU is an integer of CPU units (1024 = one vCPU) or a string like ``"1 vCPU"``; memory
an integer of MiB or a string like ``"2 GB"``. Only the shape is checked here; which
cpu/memory pairs a launch type allows is AWS's to decide when the task starts.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from jupyter_flows.run_configs.fields import anchored, rule_error

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_BINARY_SI = r"[KMGTPE]i"
_EXPONENT = r"[eE][+-]?[0-9]+"

QUANTITY_PATTERN = rf"[+-]?{_NUMBER}(?:{_BINARY_SI}|[numkMGTPE]|{_EXPONENT})?"
"""The whole Kubernetes quantity grammar, as the API server parses it."""
CPU_PATTERN = rf"\+?{_NUMBER}(?:{_BINARY_SI}|[numkMGTPE]|{_EXPONENT})?"
MEMORY_PATTERN = rf"\+?{_NUMBER}(?:{_BINARY_SI}|[kMGTPE]|{_EXPONENT})?"
ECS_CPU_PATTERN = rf"[1-9][0-9]*|{_NUMBER} ?[vV][cC][pP][uU]"
ECS_MEMORY_PATTERN = rf"[1-9][0-9]*|{_NUMBER} ?[gG][bB]"

_QUANTITY = re.compile(rf"(?P<number>[+-]?{_NUMBER})(?P<suffix>.*)")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_FRACTIONS = {"m": "milli", "u": "micro", "n": "nano"}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

CPU_MESSAGE = "expected a number or a quantity like '500m', got {!r}"
MEMORY_MESSAGE = "expected a Kubernetes quantity like '4Gi', got {!r}"
ECS_CPU_MESSAGE = "expected CPU units like 1024 or a string like '1 vCPU', got {!r}"
ECS_MEMORY_MESSAGE = "expected MiB like 2048 or a string like '2 GB', got {!r}"


def is_quantity(text: str) -> bool:
    """Whether ``text`` is a Kubernetes quantity (any sign, any suffix)."""
    return re.fullmatch(QUANTITY_PATTERN, text) is not None


def quantity_value(amount: str | float) -> Decimal:
    """The exact value of a quantity or number, to compare a request with its limit."""
    if not isinstance(amount, str):
        return Decimal(str(amount))
    match = _QUANTITY.fullmatch(amount)
    if match is None or not is_quantity(amount):
        raise ValueError(f"not a Kubernetes quantity: {amount!r}")
    number, suffix = Decimal(match["number"]), match["suffix"]
    if suffix in _BINARY:
        return number * 1024 ** _BINARY[suffix]
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:]))


def _is_number(value: Any) -> bool:
    # bool is an int to Python, never a CPU count to a user.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _negative(value: Any) -> bool:
    return value < 0 if _is_number(value) else isinstance(value, str) and value.startswith("-")


def _check_amount(value: Any) -> None:
    if _negative(value):
        raise rule_error("negative_amount", f"expected a non-negative amount, got {value!r}")
    if isinstance(value, str):
        try:
            quantity_value(value)
        except ArithmeticError:
            raise rule_error("amount_range", f"amount out of range: {value!r}") from None


def check_kubernetes_cpu(value: Any) -> Any:
    """A number of cores or a quantity: 2, 0.5, '500m', '1.5'."""
    if (_is_number(value) and math.isfinite(value)) or (
        isinstance(value, str) and is_quantity(value)
    ):
        _check_amount(value)
        return value
    raise rule_error("kubernetes_cpu", CPU_MESSAGE.format(value))


def check_kubernetes_memory(value: Any) -> Any:
    """A quantity ('4Gi', '512Mi', '1G') or a whole number of bytes."""
    if (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and is_quantity(value)
    ):
        _check_amount(value)
        if isinstance(value, str) and value[-1:] in _FRACTIONS:
            raise rule_error(
                "fractional_bytes",
                f"{value!r} means {quantity_value(value):f} bytes ('{value[-1]}' is "
                f"{_FRACTIONS[value[-1]]}); use 'Mi' or 'M' for mebibytes or megabytes, "
                "e.g. '512Mi'",
            )
        return value
    raise rule_error("kubernetes_memory", MEMORY_MESSAGE.format(value))


def _check_ecs(value: Any, pattern: str, kind: str, message: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        ok = value > 0
    elif isinstance(value, str) and re.fullmatch(pattern, value):
        ok = Decimal(re.sub(r"[^0-9.]", "", value)) > 0
    else:
        ok = False
    if not ok:
        raise rule_error(kind, message.format(value))
    return value


def check_ecs_cpu(value: Any) -> Any:
    """CPU units (1024) or vCPUs ('1 vCPU', '0.25 vcpu')."""
    return _check_ecs(value, ECS_CPU_PATTERN, "ecs_cpu", ECS_CPU_MESSAGE)


def check_ecs_memory(value: Any) -> Any:
    """MiB (2048) or GB ('2 GB', '0.5GB')."""
    return _check_ecs(value, ECS_MEMORY_PATTERN, "ecs_memory", ECS_MEMORY_MESSAGE)


def _number_or_string(number: dict[str, Any], pattern: str) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [number, {"type": "string", "pattern": anchored(pattern)}]})


KubernetesCpu = Annotated[
    int | float | str,
    BeforeValidator(check_kubernetes_cpu),
    _number_or_string({"type": "number", "minimum": 0}, CPU_PATTERN),
]
KubernetesMemory = Annotated[
    int | str,
    BeforeValidator(check_kubernetes_memory),
    _number_or_string({"type": "integer", "minimum": 0}, MEMORY_PATTERN),
]
EcsCpu = Annotated[
    int | str,
    BeforeValidator(check_ecs_cpu),
    _number_or_string({"type": "integer", "minimum": 1}, ECS_CPU_PATTERN),
]
EcsMemory = Annotated[
    int | str,
    BeforeValidator(check_ecs_memory),
    _number_or_string({"type": "integer", "minimum": 1}, ECS_MEMORY_PATTERN),
]
