"""The signals under Prefect 1.x's module path (``prefect.engine.signals``)."""

from jupyter_flows.signals import (
    FAIL,
    LOOP,
    PAUSE,
    RETRY,
    SKIP,
    SUCCESS,
    TRIGGERFAIL,
    VALIDATIONFAIL,
    Signal,
)

__all__ = ["FAIL", "LOOP", "PAUSE", "RETRY", "SKIP", "SUCCESS", "TRIGGERFAIL",
           "VALIDATIONFAIL", "Signal"]
