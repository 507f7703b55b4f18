"""Fixtures of the browser tests: a real ``jupyter lab`` with the extension and nothing
configured (so its embedded backend and local agent start), and headless Debian chromium
driven by Playwright for Python (never ``playwright install``: the system chromium is used).

Screenshots go to ``tests/browser/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_ERRORS,
    SCREENSHOTS,
    Lab,
    extension_dir,
    labextensions_path,
    require_browser,
)

from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import free_port


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_browser()
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_FLOWS_")}
    env.update(JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"), PYTHONUNBUFFERED="1",
               JUPYTER_PATH=os.pathsep.join(filter(None, [str(labextensions_path(base)),
                                                          os.environ.get("JUPYTER_PATH")])))
    command = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
               "--IdentityProvider.token=", "--ip=127.0.0.1", f"--port={port}",
               "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True",
               f"--ServerApp.root_dir={root}",
               f"--JupyterFlows.embedded_database={base / 'flows' / 'backend.db'}"]
    # no "get Jupyter news?" toast over the screenshots (and no request to the news feed)
    news = base / "settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')
    # save widget state with notebooks, as users may: the secrets test reads what is saved
    widgets = base / "settings/@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings"
    widgets.parent.mkdir(parents=True)
    widgets.write_text('{"saveState": true}')
    log = base / "jupyter-lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    lab = Lab(url, "", root, log, process)
    try:
        _wait_for_backend(lab, timeout=90)
        lab.backend_url = lab.config()["backend_url"]
        # the page loads the extension these tests mean (see browser_support.extension_dir)
        entry = next((extension_dir() / "static").glob("remoteEntry.*.js")).name
        assert entry in httpx.get(f"{url}/lab", timeout=10).text, f"{entry} is not served"
        yield lab
    finally:
        children = psutil.Process(process.pid).children(recursive=True)
        # SIGTERM: the extension stops its backend and agent
        stop_processes(process, timeout=30)
        _, alive = psutil.wait_procs(children, timeout=15)
        for child in alive:
            child.kill()
        assert not alive, f"jupyter lab left these running: {[c.cmdline() for c in alive]}"


def _wait_for_backend(lab: Lab, timeout: float) -> None:
    """Until the proxy answers /health: the Jupyter server is up and so is its backend."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {lab.process.returncode}:\n"
                               f"{lab.log_tail()}")
        try:
            if httpx.get(f"{lab.url}/jupyter-flows/api/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"jupyter lab or its embedded backend did not answer within "
                       f"{timeout:.0f} s:\n{lab.log_tail()}")


# module scope, not session: while Playwright's sync API is open it keeps an asyncio loop
# running in this thread, which breaks the asyncio tests that run after these
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser: Any, lab: Lab) -> Iterator[Any]:
    """One JupyterLab page for the whole session (the tests build on each other's state)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    page.goto(f"{lab.url}/lab")
    page.wait_for_selector('.lm-TabBar-tab[data-id="jupyter-flows-sidebar"]', timeout=90_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands")
    yield page
    context.close()


