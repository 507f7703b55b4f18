"""What a task cell finds of IPython wherever it runs: ``display`` and ``get_ipython``.

In the kernel IPython puts both into ``builtins``, so a cell run there (local executor, the
threads scheduler) uses IPython's own: rich output in the ``%flow run`` cell. A process pool,
a Dask worker or an agent's flow-run process has no shell (and perhaps no IPython at all):
there ``display`` logs the text form of each object through the task run's logger (so it shows
in the notebook, as re-emitted records, and in the backend's run logs), and ``get_ipython()``
gives a stand-in that is falsy and raises ``NoShellError`` for anything else: the magics a
cell uses need the kernel.
"""

from __future__ import annotations

import builtins
import pprint
from typing import Any

from jupyter_flows.errors import NoShellError

__all__ = ["DisplayHandle", "display", "get_ipython", "ipython_names"]


def _text(obj: Any) -> str:
    # containers pretty-printed; a string as one repr, as IPython shows it
    return repr(obj) if isinstance(obj, str) else pprint.pformat(obj, width=100)


class DisplayHandle:
    """What ``display(..., display_id=...)`` returns: updates are logged too."""

    def __init__(self, display_id: Any) -> None:
        self.display_id = display_id

    def display(self, obj: Any, **kwargs: Any) -> None:
        display(obj)

    def update(self, obj: Any, **kwargs: Any) -> None:
        display(obj)


def display(*objs: Any, display_id: Any = None, **kwargs: Any) -> DisplayHandle | None:
    """Log each object's text form (its ``repr``, pretty-printed) at INFO on the task's
    logger; there is no notebook output here to show it in."""
    from jupyter_flows.core.context import get_logger

    logger = get_logger()
    for obj in objs:
        logger.info("display: %s", _text(obj))
    return DisplayHandle(display_id) if display_id is not None else None


class _NoShell:
    """``get_ipython()`` where no IPython shell runs: falsy, and says so when used."""

    def __bool__(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        raise NoShellError(
            f"get_ipython().{name}: this task cell runs where no IPython shell is (a process "
            "pool, a Dask worker or an agent's flow run), so magics and ! commands are not "
            "available; move them to a plain notebook cell, or run the flow in the kernel "
            "(%flow run --executor local)"
        )

    def __repr__(self) -> str:
        return "<no IPython shell in this process>"


_NO_SHELL = _NoShell()


def get_ipython() -> _NoShell:
    return _NO_SHELL


def ipython_names() -> dict[str, Any]:
    """The names a cell's namespace gets: IPython's own where IPython set them up in this
    process, else the stand-ins."""
    names: dict[str, Any] = {}
    if not hasattr(builtins, "display"):
        names["display"] = display
    if not hasattr(builtins, "get_ipython"):
        names["get_ipython"] = get_ipython
    return names
