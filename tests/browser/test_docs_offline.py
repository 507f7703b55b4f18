"""The backend's /docs renders in chromium with no network beyond 127.0.0.1.

Every request to another host is refused (and recorded) by the page's router, as on a machine
without internet: Swagger UI must still list the API's operations, and ask for nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_support import SCREENSHOTS, screenshot

from jupyter_flows.server.testing import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("docs") / "backend.db") as url:
        yield url


@pytest.fixture
def offline_page(browser: Any) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page whose requests off 127.0.0.1 are aborted; yields it, those URLs, page errors."""
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    refused: list[str] = []
    errors: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, refused, errors
    context.close()


def test_swagger_ui_renders_the_operations_offline(backend: str, offline_page: Any) -> None:
    page, refused, errors = offline_page
    page.goto(f"{backend}/docs")
    page.wait_for_selector(".opblock", timeout=60_000)
    assert "jupyter-flows backend" in page.locator(".info .title").inner_text()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/flow_runs" in path for path in paths), paths
    shot: Path = screenshot(page, "backend-docs-offline")
    assert shot.stat().st_size > 0
    assert refused == [], f"/docs tried to reach the network: {refused}"
    assert errors == []

