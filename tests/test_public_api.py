"""The public surface: every exported name resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import jupyter_flows


def test_every_export_resolves() -> None:
    for name in jupyter_flows.__all__:
        assert getattr(jupyter_flows, name) is not None, name


def test_all_is_sorted_and_unique() -> None:
    assert jupyter_flows.__all__ == sorted(set(jupyter_flows.__all__))


def test_import_does_not_load_heavy_dependencies() -> None:
    code = (
        "import sys, jupyter_flows\n"
        "from jupyter_flows import Flow, task, Parameter\n"
        "heavy = ['dask', 'distributed', 'IPython', 'ipywidgets', 'graphviz', 'fastapi',"
        " 'sqlalchemy', 'httpx', 'boto3']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_attribute_names_itself() -> None:
    try:
        jupyter_flows.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
