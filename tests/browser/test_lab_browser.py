"""The JupyterLab extension in a real browser, against the embedded backend and agent.

The tests run in file order on one page and build on each other: the panel lists a flow
registered through the API, a run of it goes Scheduled -> Success, its run view shows task
states, run config, logs and the DAG, "Run again" takes new parameters, a run no agent can
take is flagged and cancelled, a failed run is restarted from where it failed, and the
notebook's "Run as flow" button submits the task
cells whose run link in the output opens the run view too. Then issue 10: each notebook's
cells make a flow named after it, an edited task cell is marked stale in the notebook's DAG
and by `%flow run`, and a deleted one leaves its flow.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from browser_support import PAGE_ERRORS, Lab, screenshot, write_notebook

from jupyter_flows.client import Client

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FLOW = "lab-browser-demo"
SCRIPT = Path(__file__).parent / "lab_demo_flow.py"
RUN_TIMEOUT = 60_000  # ms: a run from Scheduled to Success on a busy 2-core machine
_runs: dict[str, str] = {}  # what earlier tests created, by role


def sidebar(page: Any) -> Any:
    return page.locator("#jupyter-flows-sidebar")


def run_row(page: Any, run_id: str) -> Any:
    return sidebar(page).locator(f'.jp-flows-run[data-run-id="{run_id}"]')


def run_view(page: Any, run_id: str) -> Any:
    return page.locator(f'.jp-flows-runview[data-run-id="{run_id}"]')


def refresh_panel(page: Any) -> None:
    sidebar(page).locator(".jp-flows-refresh").click()


def wait_state(locator: Any, state: str, timeout: int = RUN_TIMEOUT) -> None:
    locator.and_(locator.page.locator(f'[data-state="{state}"]')).wait_for(timeout=timeout)


def test_the_panel_lists_a_flow_registered_through_the_api(page: Any, lab: Lab) -> None:
    page.locator('.lm-TabBar-tab[data-id="jupyter-flows-sidebar"]').click()
    panel = sidebar(page)
    status = panel.locator(".jp-flows-status")
    status.locator("text=Connected to embedded backend").wait_for()
    assert lab.backend_url in status.inner_text()

    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": lab.backend_url}
    env.pop("JUPYTER_FLOWS_API_KEY", None)
    done = subprocess.run([sys.executable, "-m", "jupyter_flows", "register", str(SCRIPT)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    refresh_panel(page)
    flow = panel.locator(f'.jp-flows-flow[data-flow-name="{FLOW}"]')
    flow.wait_for()
    detail = flow.inner_text()
    assert "v1" in detail and "run: local" in detail and "executor:" in detail
    agent = panel.locator(".jp-flows-agent")
    agent.first.wait_for()
    assert "heartbeat" in agent.first.inner_text()
    screenshot(page, "01-panel-flows-and-agent")


def test_a_submitted_run_goes_from_scheduled_to_success(page: Any, lab: Lab) -> None:
    start = datetime.now(timezone.utc) + timedelta(seconds=5)  # Scheduled long enough to see
    with Client(lab.backend_url) as client:
        run = client.create_flow_run(flow_name=FLOW, scheduled_start=start)
    _runs["first"] = run.id
    refresh_panel(page)
    row = run_row(page, run.id)
    wait_state(row, "Scheduled", timeout=10_000)
    assert "Scheduled" in row.locator(".jp-flows-state").inner_text()
    screenshot(page, "02-run-scheduled")
    wait_state(row, "Success")
    assert row.locator(".jp-flows-state").inner_text() == "Success"
    screenshot(page, "02-run-success")


def test_the_run_view_shows_task_states_config_and_logs(page: Any, lab: Lab) -> None:
    run_id = _runs["first"]
    run_row(page, run_id).click()
    view = run_view(page, run_id)
    wait_state(view, "Success")
    view.locator('.jp-flows-task[data-slug="total-1"][data-state="Success"]').wait_for()
    tasks = {row.get_attribute("data-slug"): row.get_attribute("data-state")
             for row in view.locator(".jp-flows-task").all()}
    assert tasks == {"n": "Success", "numbers-1": "Success", "double-1": "Mapped",
                     "total-1": "Success"}
    assert "3/3" in view.locator('.jp-flows-task[data-slug="double-1"]').inner_text()

    nodes = view.locator(".jp-flows-dag-node")
    assert nodes.count() == 4
    assert view.locator(".jp-flows-dag-node.jp-flows-state-success").count() == 4
    assert view.locator(".jp-flows-dag-edge").count() == 3

    timeline = [item.get_attribute("data-state")
                for item in view.locator(".jp-flows-timeline-item").all()]
    assert timeline == ["Scheduled", "Submitted", "Running", "Success"]

    config = view.locator(".jp-flows-runconfig").inner_text()
    assert "env.API_TOKEN" in config and "env.MODE" in config and "demo" in config
    assert "not-for-browsers" not in page.content()  # masked by the backend

    logs = view.locator(".jp-flows-logs")
    logs.locator("text=total of 3 values is 12").wait_for()
    assert "doubling 1" in logs.inner_text()
    screenshot(page, "03-run-view")


def test_the_run_view_follows_the_events_stream_without_polling(page: Any, lab: Lab) -> None:
    start = datetime.now(timezone.utc) + timedelta(seconds=6)
    with Client(lab.backend_url) as client:
        run = client.create_flow_run(flow_name=FLOW, scheduled_start=start)
    requests: list[str] = []

    def seen(request: Any) -> None:
        requests.append(request.url)

    page.on("request", seen)
    refresh_panel(page)
    run_row(page, run.id).click()
    view = run_view(page, run.id)
    wait_state(view, "Scheduled", timeout=10_000)
    wait_state(view, "Success")  # moved there by the stream alone
    view.locator('.jp-flows-task[data-slug="total-1"][data-state="Success"]').wait_for()
    view.locator(".jp-flows-logs").locator("text=total of 3 values is 12").wait_for()
    page.remove_listener("request", seen)
    mine = [url for url in requests if f"/jupyter-flows/api/flow_runs/{run.id}" in url]
    streams = [url for url in mine if "/events" in url]
    task_reads = [url for url in mine if url.split("?")[0].endswith("/task_runs")]
    assert len(streams) == 1, mine
    # one read when the view opened and one when the stream said the run ended; a poller
    # would have read them every second or so for the 6 s the run waited
    assert len(task_reads) <= 2, mine
    _runs["followed"] = run.id
    run_row(page, _runs["first"]).click()  # the next test works on the first run's view
    wait_state(run_view(page, _runs["first"]), "Success")


def test_run_again_takes_new_parameters(page: Any, lab: Lab) -> None:
    view = run_view(page, _runs["first"])
    view.locator(".jp-flows-run-again").click()
    dialog = page.locator(".jp-Dialog")
    field = dialog.locator('input[name="n"]')
    assert field.input_value() == "3"
    field.fill("4")
    screenshot(page, "04-run-again-dialog")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    again = page.locator(f'.jp-flows-runview:not([data-run-id="{_runs["first"]}"])'
                         f':not([data-run-id="{_runs["followed"]}"])')
    again.wait_for()
    run_id = again.get_attribute("data-run-id")
    assert run_id
    wait_state(again, "Success")
    params = again.locator(".jp-flows-parameters").inner_text()
    assert re.search(r"n\s+4", params), params
    again.locator(".jp-flows-logs").locator("text=total of 4 values is 20").wait_for()
    _runs["again"] = run_id


def test_a_run_no_agent_can_take_is_flagged_and_can_be_cancelled(page: Any, lab: Lab) -> None:
    with Client(lab.backend_url) as client:
        run = client.create_flow_run(flow_name=FLOW, labels=["gpu"])
    refresh_panel(page)
    row = run_row(page, run.id)
    warning = row.locator(".jp-flows-run-unmatched")
    warning.wait_for()
    assert "gpu" in warning.inner_text()
    screenshot(page, "05-run-no-agent-can-take")

    row.click()
    view = run_view(page, run.id)
    view.locator(".jp-flows-banner .jp-flows-run-unmatched").wait_for()
    view.locator(".jp-flows-cancel").click()
    page.locator(".jp-Dialog-button.jp-mod-warn").click()
    wait_state(view, "Cancelled", timeout=15_000)
    assert view.locator(".jp-flows-cancel").is_disabled()
    wait_state(row, "Cancelled", timeout=15_000)

    # the filters: only cancelled runs of this flow
    panel = sidebar(page)
    panel.locator(".jp-flows-filter-state").select_option("Cancelled")
    panel.locator(".jp-flows-filter-flow").select_option(FLOW)
    panel.locator(".jp-flows-run:not([data-state='Cancelled'])").first.wait_for(state="detached")
    shown = [row.get_attribute("data-run-id") for row in panel.locator(".jp-flows-run").all()]
    assert shown == [run.id]
    screenshot(page, "05-run-cancelled-filtered")
    panel.locator(".jp-flows-filter-state").select_option("")
    panel.locator(".jp-flows-filter-flow").select_option("")
    run_row(page, _runs["first"]).wait_for()


def test_a_failed_run_restarts_from_where_it_failed(page: Any, lab: Lab,
                                                   tmp_path: Path) -> None:
    marker = tmp_path / "upstream-ready"
    with Client(lab.backend_url) as client:
        run = client.create_flow_run(flow_name="lab-browser-flaky",
                                     parameters={"marker": str(marker)})
    refresh_panel(page)
    run_row(page, run.id).click()
    view = run_view(page, run.id)
    wait_state(view, "Failed")
    view.locator('.jp-flows-task[data-slug="publish-1"][data-state="Failed"]').wait_for()
    restart = view.locator(".jp-flows-restart")
    assert restart.is_enabled()

    marker.write_text("ready")  # the cause is fixed
    restart.click()
    page.locator(".jp-Dialog-button.jp-mod-accept").click()
    wait_state(view, "Success")
    view.locator('.jp-flows-task[data-slug="publish-1"][data-state="Success"]').wait_for()
    assert restart.is_disabled()
    timeline = [item.get_attribute("data-state")
                for item in view.locator(".jp-flows-timeline-item").all()]
    assert timeline.count("Running") == 2 and timeline[-1] == "Success", timeline
    logs = view.locator(".jp-flows-logs")
    logs.locator("text=published input").wait_for()
    # the upstream task ran once in all: its checkpointed result was used on the restart
    assert logs.inner_text().count("preparing the input") == 1
    screenshot(page, "05-run-restarted")
    with Client(lab.backend_url) as client:
        assert client.get_flow_run(run.id).run_count == 2


def test_the_notebook_button_submits_the_task_cells(page: Any, lab: Lab) -> None:
    write_notebook(lab.root / "tasks.ipynb", [
        "%load_ext jupyter_flows",
        "%%task\nx = 21",
        "%%task\ny = x * 2\nprint('y is', y)",
        "%flow submit",
    ])
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', "
                  "{path: 'tasks.ipynb'})")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    notebook.wait_for()
    page.wait_for_function(
        "() => { const nb = window.jupyterapp.shell.currentWidget;"
        " return nb && nb.sessionContext && nb.sessionContext.session"
        " && nb.sessionContext.session.kernel"
        " && nb.sessionContext.session.kernel.status === 'idle'; }", timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    link = notebook.locator('.jp-OutputArea-output a[href^="jupyter-flows://runs/"]')
    link.first.wait_for(timeout=60_000)
    linked_id = link.first.get_attribute("href").rsplit("/", 1)[-1]

    screenshot(page, "06-notebook-with-run-button")
    known = {_runs["first"], _runs["again"], linked_id}
    notebook.locator(".jp-flows-run-notebook").click()
    view = page.locator(".jp-flows-runview").filter(
        has=page.locator(".jp-flows-runview-flow", has_text="tasks"))  # named after the file
    view.wait_for(timeout=60_000)
    run_id = view.get_attribute("data-run-id")
    assert run_id and run_id not in known
    wait_state(view, "Success")
    view.locator('.jp-flows-task[data-state="Success"]').first.wait_for()
    screenshot(page, "07-notebook-run-view")

    # the run link %flow submit printed opens that run's view
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', "
                  "{path: 'tasks.ipynb'})")
    notebook.locator('.jp-OutputArea-output a[href^="jupyter-flows://runs/"]').first.click()
    linked = run_view(page, linked_id)
    wait_state(linked, "Success")
    assert len(page.context.pages) == 1  # no tab opened for the link
    screenshot(page, "08-run-link-opened")


def open_notebook(page: Any, path: str) -> Any:
    # the command resolves to the notebook widget, which cannot come back over the wire
    page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', {path})"
                  ".then(() => null)", path)
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    notebook.wait_for()
    page.wait_for_function(
        "() => { const nb = window.jupyterapp.shell.currentWidget;"
        " return nb && nb.sessionContext && nb.sessionContext.session"
        " && nb.sessionContext.session.kernel"
        " && nb.sessionContext.session.kernel.status === 'idle'; }", timeout=60_000)
    return notebook


def run_new_cell(page: Any, notebook: Any, code: str) -> Any:
    """Add a cell at the end, type ``code`` into it and run it, as a person would; returns
    its output area once the cell has run."""
    count = notebook.locator(".jp-Cell").count()
    page.evaluate("() => { const nb = window.jupyterapp.shell.currentWidget.content;"
                  " nb.activeCellIndex = nb.widgets.length - 1; nb.mode = 'command';"
                  " return window.jupyterapp.commands.execute('notebook:insert-cell-below'); }")
    new = notebook.locator(".jp-Cell").nth(count)
    new.locator(".cm-content").click()
    page.keyboard.type(code)
    page.keyboard.press("Control+Enter")  # run, without adding a cell
    new.locator(".jp-InputPrompt", has_text=re.compile(r"\[\d+\]")).wait_for(timeout=60_000)
    return new.locator(".jp-OutputArea")


def shown_svg(output: Any) -> str:
    """The SVG an output shows (JupyterLab renders image/svg+xml as an <img> data URI)."""
    from urllib.parse import unquote

    image = output.locator("img[src^='data:image/svg+xml']")
    image.wait_for(timeout=30_000)
    return unquote(image.get_attribute("src").split(",", 1)[1])


def test_a_second_notebook_gets_a_flow_of_its_own(page: Any, lab: Lab) -> None:
    write_notebook(lab.root / "other.ipynb", [
        "%load_ext jupyter_flows",
        "%%task numbers\nxs = [1, 2, 3]",
        "%%task total\ns = sum(xs)",
        "%flow submit",
    ])
    notebook = open_notebook(page, "other.ipynb")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    link = notebook.locator('.jp-OutputArea-output a[href^="jupyter-flows://runs/"]')
    link.first.wait_for(timeout=60_000)
    output = notebook.locator(".jp-Cell").nth(3).locator(".jp-OutputArea").inner_text()
    assert "submitted flow 'other' (version 1)" in output, output
    assert "cells without --flow go to flow 'other', named after the notebook other.ipynb" \
        in output
    with Client(lab.backend_url) as client:
        versions = {f.name: f.version for f in client.list_flows(limit=200).items}
    assert versions.get("tasks") == 1 and versions.get("other") == 1, versions
    refresh_panel(page)
    sidebar(page).locator('.jp-flows-flow[data-flow-name="other"]').wait_for()
    sidebar(page).locator('.jp-flows-flow[data-flow-name="tasks"]').wait_for()
    screenshot(page, "10-second-notebook-own-flow")


def test_an_edited_task_cell_is_marked_stale(page: Any, lab: Lab) -> None:
    notebook = open_notebook(page, "other.ipynb")
    total = notebook.locator(".jp-Cell").nth(2)
    total.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" * 10")  # edited, not run
    page.keyboard.press("Escape")
    svg = shown_svg(run_new_cell(page, notebook, "%flow show"))
    nodes = re.findall(r'<g id="node\d+" class="node( stale)?">(.*?)</g>', svg, re.DOTALL)
    assert len(nodes) == 2, svg
    (stale,) = [body for mark, body in nodes if mark]
    assert ">total<" in stale and "stale: edited, not run" in stale
    screenshot(page, "11-stale-cell-in-the-dag")

    text = run_new_cell(page, notebook, "%flow run").inner_text()
    assert "note: task cell 'total' was edited since registered (stale); this run uses its" \
        " registered code" in text, text
    screenshot(page, "12-stale-cell-flow-run")
    assert run_new_cell(page, notebook, "print(s)").inner_text().strip() == "6"  # not 60

    # run the edited cell: registered, no longer stale
    total.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    svg = shown_svg(run_new_cell(page, notebook, "%flow show"))
    assert svg.count('class="node"') == 2 and "stale" not in svg


def test_a_deleted_task_cell_leaves_its_flow(page: Any, lab: Lab) -> None:
    notebook = open_notebook(page, "other.ipynb")
    page.evaluate("() => { const nb = window.jupyterapp.shell.currentWidget.content;"
                  " nb.activeCellIndex = 2; nb.mode = 'command'; }")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:delete-cell')")
    text = run_new_cell(page, notebook, "%flow list").inner_text()
    assert "note: task 'total' left flow 'other': its notebook cell was deleted" in text, text
    assert "other (1 task cells, in registration order):" in text
    screenshot(page, "13-deleted-cell-left-the-flow")


def test_the_config_widget_hides_secrets_and_saves_none(page: Any, lab: Lab) -> None:
    notebook = open_notebook(page, "other.ipynb")
    out = run_new_cell(page, notebook, "%flow config")
    form = out.locator(".widget-vbox").first
    form.locator("select").first.select_option(label="Docker")
    row = out.locator(".widget-hbox").filter(has=page.locator(".widget-label", has_text="Ports"))
    ports = row.locator(".jupyter-widget-tagsinput")
    ports.wait_for()
    assert ports.bounding_box()["width"] >= 400  # was a sliver
    assert ports.locator("input").bounding_box()["width"] >= 200  # what one types into
    out.locator("button", has_text="add").first.click()
    names = out.locator("input[placeholder='NAME']")
    names.last.fill("API_TOKEN")
    secret = out.locator("input[type='password']")
    secret.last.wait_for()
    secret.last.fill("tok-not-for-files")
    secret.last.press("Enter")  # a password field sends its value on Enter or blur
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"input[type='password']\")]"
        ".some(i => i.placeholder.startsWith('set, hidden'))")
    assert secret.last.input_value() == ""
    out.locator("button", has_text="Apply").click()
    out.locator("text=Applied to flow 'other'").wait_for()
    screenshot(page, "14-config-widget-secret-hidden")
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    saved = (lab.root / "other.ipynb").read_text()
    assert "application/vnd.jupyter.widget-state+json" in saved  # widget state is saved
    assert "API_TOKEN" in saved  # the state holds the form's fields...
    assert "tok-not-for-files" not in saved  # ...but not the secret


def test_the_schedule_dialog_schedules_the_notebook_and_the_panel_pauses_it(
        page: Any, lab: Lab) -> None:
    notebook = open_notebook(page, "tasks.ipynb")
    notebook.locator(".jp-flows-schedule-notebook").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".jp-flows-schedule-kind").select_option("every")
    dialog.locator(".jp-flows-schedule-when").fill("1h")
    dialog.locator(".jp-flows-schedule-zone").fill("UTC")
    screenshot(page, "12-schedule-dialog")
    dialog.locator("button", has_text="Schedule").click()
    # show the panel (clicking its tab would hide it when it is shown already)
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-flows:show-panel')"
                  ".then(() => null)")
    flow = sidebar(page).locator('.jp-flows-flow[data-flow-name="tasks"]')
    active = flow.locator('.jp-flows-schedule[data-active="true"]')
    active.wait_for(timeout=60_000)  # the change feed brought the new version in
    assert "every hour" in active.inner_text() and "next" in active.inner_text()
    with Client(lab.backend_url) as client:
        latest = client.list_flows(name="tasks").items[0]
        assert client.get_schedule(latest.id).active
    screenshot(page, "12-panel-schedule")
    active.locator(".jp-flows-schedule-toggle").click()
    paused = flow.locator('.jp-flows-schedule[data-active="false"]')
    paused.wait_for(timeout=30_000)
    assert "paused" in paused.inner_text()
    with Client(lab.backend_url) as client:
        assert not client.get_schedule(latest.id).active
        upcoming = client.list_flow_runs(flow_name="tasks", upcoming=True)
        assert upcoming.total == 0  # pausing deleted the runs it had made


def test_a_backend_that_went_away_is_a_readable_message(page: Any, lab: Lab) -> None:
    import psutil

    servers = [child for child in psutil.Process(lab.process.pid).children(recursive=True)
               if "jupyter_flows.server" in " ".join(child.cmdline())]
    assert len(servers) == 1
    servers[0].kill()
    servers[0].wait(10)
    refresh_panel(page)
    status = sidebar(page).locator(".jp-flows-status-error")
    status.wait_for(timeout=15_000)
    text = status.inner_text()
    assert f"backend at {lab.backend_url} is not reachable" in text, text
    assert "exited with code" in text, text
    screenshot(page, "09-backend-down")
    assert not PAGE_ERRORS, PAGE_ERRORS
