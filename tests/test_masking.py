"""Secret masking (issue 11, item 8): the broader rule as a table of names and values, and
every response that shows configs or parameters masking what the issue found in clear,
while the agent's claim still gets every value."""

from __future__ import annotations

import pytest
from wire import spec_json

from jupyter_flows.run_configs.masking import MASK, looks_secret, mask_url
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

SECRET_NAMES = ["GITHUB_PAT", "SLACK_WEBHOOK_URL", "PASSPHRASE", "PGPASS", "password",
                "SENTRY_DSN", "AUTH_HEADER", "apiKey", "githubPat", "DB_PASSWD",
                "GOOGLE_APPLICATION_CREDENTIALS", "MY_SECRET", "GITHUB_TOKEN"]
PLAIN_NAMES = ["PATH", "PYTHONPATH", "HOME", "LOG_LEVEL", "PATTERN", "DISPATCH_QUEUE",
               "DATABASE_URL", "n"]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_plain_names(name: str) -> None:
    assert not looks_secret(name)


@pytest.mark.parametrize(("text", "shown"), [
    ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
    ("postgresql+psycopg://app:s3cr%40t@db.example:5432/prod",
     "postgresql+psycopg://app:***@db.example:5432/prod"),
    ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
    ("https://user:p@ss@github.com/org/repo.git", "https://user:***@github.com/org/repo.git"),
    ("use amqp://guest:guest@mq/ and https://x.org", "use amqp://guest:***@mq/ and https://x.org"),
    ("http://host:8080/path", "http://host:8080/path"),
    ("https://user@host/path", "https://user@host/path"),
    ("no url at all", "no url at all"),
])
def test_credentials_in_urls(text: str, shown: str) -> None:
    assert mask_url(text) == shown


@pytest.fixture
async def http(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/backend.db")) as client:
        yield client


SECRETS = {"GITHUB_PAT": "ghp_abc", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/T0/B0/x",
           "PASSPHRASE": "open sesame", "DATABASE_URL": "postgresql://app:pw123@db/prod",
           "PATH": "/usr/bin"}


@pytest.mark.anyio
async def test_responses_mask_what_the_issue_found_and_the_claim_does_not(http):
    template = {"spec": {"template": {"spec": {"containers": [{"name": "flow", "env": [
        {"name": "PGPASS", "value": "pgsecret"},
        {"name": "PGHOST", "value": "db"}]}]}}}}
    spec = spec_json("f", ("a-1",), params={"password": False, "n": False})
    spec["tasks"][0]["parameter"]["default"] = "default-pw"
    response = await http.post("/api/flows", json={
        "name": "f", "spec": spec,
        "run_config": {"type": "kubernetes", "env": SECRETS, "job_template": template},
        "storage": {"type": "git", "repo": "https://bot:ghp_xyz@github.com/o/r.git"}})
    assert response.status_code == 201, response.text
    flow = response.json()
    run = (await http.post("/api/flow_runs", json={
        "flow_id": flow["id"], "parameters": {"password": "hunter2", "n": 3}})).json()

    def check_flow(shown: dict) -> None:
        env = shown["run_config"]["env"]
        assert env == {"GITHUB_PAT": MASK, "SLACK_WEBHOOK_URL": MASK, "PASSPHRASE": MASK,
                       "DATABASE_URL": "postgresql://app:***@db/prod", "PATH": "/usr/bin"}
        container = shown["run_config"]["job_template"]["spec"]["template"]["spec"][
            "containers"][0]
        assert container["env"] == [{"name": "PGPASS", "value": MASK},
                                    {"name": "PGHOST", "value": "db"}]
        assert shown["storage"]["repo"] == "https://bot:***@github.com/o/r.git"
        defaults = {t["name"]: t["parameter"]["default"] for t in shown["spec"]["tasks"]
                    if t["is_parameter"]}
        assert defaults == {"password": MASK, "n": None}

    check_flow(response.json())
    check_flow((await http.get(f"/api/flows/{flow['id']}")).json())
    check_flow((await http.get("/api/flows")).json()["items"][0])
    for shown in [run, (await http.get(f"/api/flow_runs/{run['id']}")).json(),
                  (await http.get("/api/flow_runs")).json()["items"][0]]:
        assert shown["parameters"] == {"password": MASK, "n": 3}
        assert shown["run_config"]["env"]["GITHUB_PAT"] == MASK
    assert "hunter2" not in (await http.get("/api/flow_runs")).text
    for secret in ["ghp_abc", "pw123", "pgsecret", "default-pw", "ghp_xyz", "open sesame"]:
        assert secret not in (await http.get("/api/flows")).text

    agent = (await http.post("/api/agents", json={"name": "k", "type": "kubernetes"})).json()
    claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    assert claim["flow_run"]["parameters"] == {"password": "hunter2", "n": 3}
    assert claim["flow_run"]["run_config"]["env"] == SECRETS
    assert claim["flow"]["storage"]["repo"] == "https://bot:ghp_xyz@github.com/o/r.git"
    assert claim["flow"]["spec"]["tasks"][0]["parameter"]["default"] == "default-pw"
