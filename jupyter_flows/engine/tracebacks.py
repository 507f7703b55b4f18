"""Tracebacks of user code without the engine's frames, shared by the task runner and the
child process that runs timed tasks."""

from __future__ import annotations

import contextlib
import os
import traceback as tb_module

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TEXT_ATTR = "_jupyter_flows_traceback"


def user_traceback(exc: BaseException) -> str:
    """The exception's traceback text, starting at the first frame outside jupyter-flows.

    An exception that came back from a child process carries the text made there.
    """
    carried = getattr(exc, _TEXT_ATTR, None)
    if isinstance(carried, str):
        return carried
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        tb = tb.tb_next
    exc.__traceback__ = tb
    return "".join(tb_module.format_exception(type(exc), exc, tb))


def carry_traceback(exc: BaseException, text: str) -> BaseException:
    """Attach ``text`` (made where ``exc`` was raised) for :func:`user_traceback`."""
    with contextlib.suppress(AttributeError, TypeError):  # a type refusing attributes
        setattr(exc, _TEXT_ATTR, text)
    return exc
