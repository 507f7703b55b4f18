"""Fixtures the widget tests share: no backend at all, or one real backend per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jupyter_flows.server.testing import free_port, running_server


@pytest.fixture(name="offline")
def offline_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """No backend: the default client points at a port nothing listens on."""
    monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", f"http://127.0.0.1:{free_port()}")


@pytest.fixture(name="backend", scope="module")
def backend_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real backend on loopback for the module's tests; its URL."""
    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url
