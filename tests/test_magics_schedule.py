"""``%flow schedule``: the notebook's cells scheduled on a real backend (uvicorn on a SQLite
file), through a real IPython shell; pausing with ``--off``; bad input named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from test_magics_support import (
    flow,
    fresh_shell_fixture,  # noqa: F401  (the fresh_shell fixture)
    setup_notebook,
    shell_fixture,  # noqa: F401  (the shell fixture)
)

from jupyter_flows.client.client import Client
from jupyter_flows.notebook.schedule import make_schedule, parse_every
from jupyter_flows.server.testing import running_server


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("JUPYTER_FLOWS_API_KEY", raising=False)
    with running_server(tmp_path / "db.sqlite") as url:
        monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", url)
        with Client(url) as client:
            yield client


def upcoming(client: Client) -> list[object]:
    return client.list_flow_runs(flow_name="notebook", upcoming=True, limit=500).items


@pytest.mark.slow
def test_cron_schedule_registers_the_cells_then_off_pauses_it(
        shell: InteractiveShell, tmp_path: Path, backend: Client,
        capsys: pytest.CaptureFixture[str]) -> None:
    setup_notebook(shell, tmp_path / "log")
    capsys.readouterr()
    flow(shell, 'schedule --cron "0 6 * * 1-5" --tz Europe/Berlin --param SCALE=3')
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("flow 'notebook' (version 1) is scheduled on the backend: "
                      "every weekday at 06:00 Europe/Berlin"), out
    times = out[1].removeprefix("  next: ").split(", ")
    assert len(times) == 5 and all(t.endswith(("06:00 CET", "06:00 CEST")) for t in times), out
    [registered] = backend.list_flows(name="notebook").items
    shown = backend.get_schedule(registered.id)
    assert shown.active and shown.schedule is not None
    assert shown.schedule.clocks[0].parameter_defaults == {"SCALE": 3}
    # the same magic again: the same spec, no new version
    flow(shell, 'schedule --cron "0 6 * * 1-5" --tz Europe/Berlin --param SCALE=3')
    assert "(version 1)" in capsys.readouterr().out
    flow(shell, "schedule --off")
    assert "schedule paused" in capsys.readouterr().out
    assert not backend.get_schedule(registered.id).active


def test_times_within_a_minute_are_shown_with_seconds(
        shell: InteractiveShell, tmp_path: Path, backend: Client,
        capsys: pytest.CaptureFixture[str]) -> None:
    setup_notebook(shell, tmp_path / "log")
    capsys.readouterr()
    flow(shell, "schedule --every 10s")
    out = capsys.readouterr().out.splitlines()
    times = out[1].removeprefix("  next: ").split(", ")
    assert len(times) == 5 and len(set(times)) == 5, out  # 10 s apart, all told apart


@pytest.mark.slow
def test_every_makes_runs_within_the_horizon(shell: InteractiveShell, tmp_path: Path,
                                             backend: Client,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    setup_notebook(shell, tmp_path / "log")
    flow(shell, "schedule --every 15m")
    assert "every 15 minutes" in capsys.readouterr().out
    runs = upcoming(backend)
    assert len(runs) == 4  # the next hour (the default horizon)
    flow(shell, "schedule --every 30m")  # a changed schedule: a new version replaces them
    assert "(version 2)" in capsys.readouterr().out
    runs = upcoming(backend)
    assert len(runs) == 2 and {r.flow_version for r in runs} == {2}  # type: ignore[attr-defined]
    flow(shell, "schedule --off")
    assert upcoming(backend) == []


def test_bad_input_is_named(shell: InteractiveShell, tmp_path: Path) -> None:
    setup_notebook(shell, tmp_path / "log")
    with pytest.raises(UsageError, match="one of the arguments --cron --every --off"):
        flow(shell, "schedule")
    with pytest.raises(UsageError, match="not allowed with argument"):
        flow(shell, "schedule --every 5m --off")
    with pytest.raises(UsageError, match="--every: expected a duration"):
        flow(shell, "schedule --every soon")
    with pytest.raises(UsageError, match="--tz: unknown time zone 'Mars/Olympus'"):
        flow(shell, "schedule --cron '0 6 * * *' --tz Mars/Olympus")
    with pytest.raises(UsageError, match="cron"):
        flow(shell, "schedule --cron '61 * * * *'")


@pytest.mark.parametrize(("text", "seconds"), [("15m", 900), ("30s", 30), ("2h", 7200),
                                               ("1d", 86400), ("1.5h", 5400), ("PT15M", 900)])
def test_every_durations(text: str, seconds: float) -> None:
    assert parse_every(text) == timedelta(seconds=seconds)


def test_the_clock_starts_at_a_fixed_moment_so_the_spec_is_stable() -> None:
    assert make_schedule(every="15m") == make_schedule(every="15m")
    assert make_schedule(cron="0 6 * * *", tz="Europe/Berlin").describe() == \
        "every day at 06:00 Europe/Berlin"
