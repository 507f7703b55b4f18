"""`%flow submit` and `%flow status` say why a waiting run is not taken."""

from __future__ import annotations

from datetime import datetime, timezone

from jupyter_flows.api import AgentMatch, FlowRun
from jupyter_flows.notebook.summaries import unmatched_lines

NOW = datetime(2026, 12, 3, tzinfo=timezone.utc)
LIMIT = "waiting for a slot: runs with label 'db' are limited to 1 at once (1 hold one)"


def run(state: str = "Scheduled", match: AgentMatch | None = None,
        waiting_for: str | None = None) -> FlowRun:
    return FlowRun(
        id="r1", flow_id="f1", flow_name="etl", project="default", flow_version=1,
        parameters={}, run_config={"type": "local"}, executor={}, labels=["db"],
        idempotency_key=None, scheduled_start=NOW, state=state, state_message="created",
        state_timestamp=NOW, version=1, run_count=0, max_retries=0, lease_expires_at=None,
        last_heartbeat=None, exit_code=None, created=NOW, updated=NOW, agent_match=match,
        waiting_for=waiting_for)


MATCHED = AgentMatch(matched=True, agent_ids=["a"], explanation="1 online agent(s) can run it")
UNMATCHED = AgentMatch(matched=False, agent_ids=[], explanation="no agent is online")


def test_a_run_held_back_by_a_limit_says_so() -> None:
    assert unmatched_lines(run(match=MATCHED, waiting_for=LIMIT)) == [f"  {LIMIT}"]


def test_no_agent_comes_first_and_a_run_that_can_go_says_nothing() -> None:
    assert unmatched_lines(run(match=UNMATCHED, waiting_for=LIMIT)) == [
        "  waiting: no agent is online"]
    assert unmatched_lines(run(match=MATCHED)) == []
    assert unmatched_lines(run(state="Running", waiting_for=LIMIT)) == []
