"""Failure notifications: ``on_failure`` on tasks and flows, and the webhook and email
notifiers, received by a real HTTP server thread and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from engine_tasks import boom, inc, succeed_or_fail
from test_magics_support import fresh_shell_fixture  # noqa: F401  (the fresh_shell fixture)

from jupyter_flows import Flow, LocalExecutor, task
from jupyter_flows.engine.states import Failed, Running, Success
from jupyter_flows.errors import NotificationError
from jupyter_flows.utilities.notifications import (
    EmailNotifier,
    WebhookNotifier,
    email_notifier,
    slack_notifier,
    webhook_notifier,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Dask workers (the session's LocalCluster) copy the environment when they start, which may
# be before this module's fixtures run: the secrets are set at import, before any test.
HOOK_PORT = _free_port()
SMTP_PORT = _free_port()
os.environ["JF_TEST_HOOK_URL"] = f"http://127.0.0.1:{HOOK_PORT}/hook"
os.environ["JF_TEST_SMTP_USER"] = "robot@example.org"
os.environ["JF_TEST_SMTP_PASSWORD"] = "s3cret"


class Receiver:
    """What the webhook received: each POST's path and JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        self.lock = threading.Lock()

    def wait_for(self, n: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.bodies) < n:
            time.sleep(0.05)
        return list(self.bodies)


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                receiver.bodies.append({"path": self.path, "json": json.loads(body),
                                        "type": self.headers["Content-Type"]})
            self.send_response(receiver.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"

    def wait_for(self, n: int, timeout: float = 20.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < n:
            time.sleep(0.05)
        return list(self.messages)


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            box.logins.append((data.login.decode(), data.password.decode()))
            ok = data.password == b"s3cret"
            return AuthResult(success=ok)
        return AuthResult(success=False)

    # no certificate here: the tests send without TLS, so logins are allowed in clear
    controller = Controller(box, hostname="127.0.0.1", port=SMTP_PORT,
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def failing_flow(**options: Any) -> tuple[Flow, Any]:
    with Flow("notify-me", **options.pop("flow_options", {})) as flow:
        ok = task(inc)(1)
        bad = task(boom, **options)("the disk is full")
    return flow, (ok, bad)


# ------------------------------------------------------------------------- webhook


@pytest.mark.parametrize("executor", ["local", "dask-local-cluster"], indirect=True)
def test_webhook_gets_one_message_per_failed_task(executor: Any, hook: Receiver) -> None:
    with Flow("notify-many") as flow:
        task(inc, on_failure=webhook_notifier("JF_TEST_HOOK_URL"))(1)  # succeeds: no message
        task(boom, on_failure=webhook_notifier("JF_TEST_HOOK_URL"))("the disk is full")
        task(boom, name="boom2",
             on_failure=webhook_notifier("JF_TEST_HOOK_URL"))("the network is down")
    state = flow.run(executor=executor)
    assert state.is_failed()
    bodies = hook.wait_for(2)
    time.sleep(0.5)  # a third (duplicate) message would have arrived by now
    assert len(hook.bodies) == 2
    by_name = {b["json"]["jupyter_flows"]["name"]: b for b in bodies}
    assert set(by_name) == {"boom", "boom2"}
    body = by_name["boom"]
    assert body["path"] == "/hook" and body["type"] == "application/json"
    facts = body["json"]["jupyter_flows"]
    assert facts["kind"] == "task" and facts["state"] == "Failed"
    assert facts["flow_name"] == "notify-many" and facts["slug"] == "boom-1"
    assert "the disk is full" in facts["message"]
    # Slack's incoming-webhook shape: a text line plus attachments with fields
    text = body["json"]["text"]
    assert text.startswith("Task 'boom' (boom-1) of flow 'notify-many' is Failed")
    assert "the disk is full" in text
    fields = {f["title"]: f["value"] for f in body["json"]["attachments"][0]["fields"]}
    assert fields["State"] == "Failed" and fields["Flow"] == "notify-many"


@pytest.mark.parametrize("executor", ["local", "dask-local-cluster"], indirect=True)
def test_no_message_when_everything_succeeds(executor: Any, hook: Receiver) -> None:
    with Flow("quiet", on_failure=webhook_notifier("JF_TEST_HOOK_URL")) as flow:
        task(succeed_or_fail, on_failure=webhook_notifier("JF_TEST_HOOK_URL"))("ok")
    assert flow.run(executor=executor).is_successful()
    time.sleep(0.5)
    assert hook.bodies == []


def test_flow_on_failure_is_called_once_with_the_flow(hook: Receiver) -> None:
    calls: list[tuple[Any, Any]] = []
    with Flow("flow-level", on_failure=lambda f, s: calls.append((f, s))) as flow:
        task(boom)("no luck")
    state = flow.run()
    assert state.is_failed()
    assert len(calls) == 1 and calls[0][0] is flow and calls[0][1].is_failed()

    with Flow("flow-hook", on_failure=webhook_notifier("JF_TEST_HOOK_URL")) as flow:
        task(boom)("no luck")
    flow.run()
    [body] = hook.wait_for(1)
    time.sleep(0.3)
    assert len(hook.bodies) == 1
    facts = body["json"]["jupyter_flows"]
    assert facts["kind"] == "flow" and facts["name"] == "flow-hook"
    assert body["json"]["text"].startswith("Flow 'flow-hook' is Failed")


def test_flow_secret_from_its_run_config_env(hook: Receiver, monkeypatch: Any) -> None:
    from jupyter_flows import LocalRun

    monkeypatch.delenv("JF_TEST_ONLY_IN_RUN_CONFIG", raising=False)
    with Flow("run-config-secret", on_failure=webhook_notifier("JF_TEST_ONLY_IN_RUN_CONFIG"),
              run_config=LocalRun(env={"JF_TEST_ONLY_IN_RUN_CONFIG":
                                       os.environ["JF_TEST_HOOK_URL"]})) as flow:
        task(boom)()
    flow.run()
    assert len(hook.wait_for(1)) == 1


def test_slack_notifier_as_a_state_handler_filters_states(hook: Receiver) -> None:
    # Prefect's curried form: options only give the handler; no options notify every state
    with Flow("slack") as flow:
        task(boom, state_handlers=[slack_notifier(only_states=[Failed],
                                                  webhook_secret="JF_TEST_HOOK_URL")])()
        task(inc, name="inc-all", state_handlers=[
            slack_notifier(webhook_secret="JF_TEST_HOOK_URL", ignore_states=[Running])])(1)
    flow.run(executor=LocalExecutor())
    bodies = hook.wait_for(2)
    time.sleep(0.3)
    states = sorted((b["json"]["jupyter_flows"]["name"], b["json"]["jupyter_flows"]["state"])
                    for b in hook.bodies)
    assert len(bodies) == 2
    assert states == [("boom", "Failed"), ("inc-all", "Success")]


def test_a_failing_notifier_is_logged_and_the_task_keeps_its_state(
        hook: Receiver, caplog: pytest.LogCaptureFixture, monkeypatch: Any) -> None:
    monkeypatch.delenv("JF_TEST_NOT_SET", raising=False)
    hook.status = 500
    with Flow("broken-notifiers") as flow:
        fine = task(inc, on_failure=webhook_notifier("JF_TEST_NOT_SET"),
                    state_handlers=[webhook_notifier("JF_TEST_HOOK_URL")])(1)
        bad = task(boom, on_failure=webhook_notifier("JF_TEST_NOT_SET"))("real reason")
        bad2 = task(boom, name="boom-500",
                    on_failure=webhook_notifier("JF_TEST_HOOK_URL"))("other reason")
    with caplog.at_level(logging.ERROR, logger="jupyter_flows.notifications"):
        state = flow.run()
    assert type(state.result[fine]) is Success and state.result[fine].result == 2
    assert type(state.result[bad]) is Failed
    assert "real reason" in (state.result[bad].message or "")
    assert "other reason" in (state.result[bad2].message or "")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret 'JF_TEST_NOT_SET' is not set" in logged
    assert "webhook answered 500" in logged


def test_bad_notifier_options_name_the_field() -> None:
    with pytest.raises(NotificationError, match="only_states and ignore_states take State"):
        WebhookNotifier("X", only_states=["Failed"])  # type: ignore[list-item]
    with pytest.raises(NotificationError, match=r"EmailNotifier\.tls"):
        EmailNotifier("a@b.c", smtp_host="h", tls="tls")  # type: ignore[arg-type]
    with pytest.raises(NotificationError, match="webhook_url_secret"):
        WebhookNotifier("")


def test_the_secret_is_not_in_the_flow_spec() -> None:
    from jupyter_flows.api.flow_spec import flow_spec

    flow, _ = failing_flow(on_failure=webhook_notifier("JF_TEST_HOOK_URL"))
    spec = flow_spec(flow).model_dump_json()
    assert os.environ["JF_TEST_HOOK_URL"] not in spec


# ------------------------------------------------------------------------- email


@pytest.mark.parametrize("executor", ["local", "dask-local-cluster"], indirect=True)
def test_email_gets_one_message_per_failure(executor: Any, smtp: Mailbox) -> None:
    notify = email_notifier(["ops@example.org"], smtp_host="127.0.0.1", smtp_port=SMTP_PORT,
                            tls=None, username_secret="JF_TEST_SMTP_USER",
                            password_secret="JF_TEST_SMTP_PASSWORD")
    with Flow("mail-me") as flow:
        task(inc, on_failure=notify)(1)
        task(boom, on_failure=notify)("out of memory")
    assert flow.run(executor=executor).is_failed()
    [(rcpts, msg)] = smtp.wait_for(1)
    time.sleep(0.5)
    assert len(smtp.messages) == 1
    assert rcpts == ["ops@example.org"]
    assert msg["From"] == "robot@example.org"
    assert msg["Subject"] == "[jupyter-flows] task 'boom' is Failed"
    body = msg.get_payload(decode=True).decode()
    assert "Task 'boom' (boom-1) of flow 'mail-me' is Failed" in body
    assert "out of memory" in body
    assert ("robot@example.org", "s3cret") in smtp.logins


def test_email_without_login(smtp: Mailbox) -> None:
    with Flow("mail-anon", on_failure=email_notifier("me@example.org", smtp_host="127.0.0.1",
                                                     smtp_port=SMTP_PORT, tls=None)) as flow:
        task(boom)()
    flow.run()
    [(rcpts, msg)] = smtp.wait_for(1)
    assert rcpts == ["me@example.org"] and msg["From"] == "jupyter-flows@localhost"
    assert msg["Subject"] == "[jupyter-flows] flow 'mail-anon' is Failed"
    assert smtp.logins == []


# ------------------------------------------------------------------ CLI and magic


def test_the_cli_sends_a_test_notification(hook: Receiver, smtp: Mailbox) -> None:
    from typer.testing import CliRunner

    from jupyter_flows.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["notify", "webhook", "JF_TEST_HOOK_URL", "--message", "hello"])
    assert out.exit_code == 0, out.output
    [body] = hook.wait_for(1)
    assert body["json"]["text"] == "Flow 'notify-test' is Failed: hello"
    out = runner.invoke(app, ["notify", "email", "--to", "ops@example.org", "--smtp-host",
                              "127.0.0.1", "--smtp-port", str(SMTP_PORT), "--tls", "none",
                              "--username-secret", "JF_TEST_SMTP_USER",
                              "--password-secret", "JF_TEST_SMTP_PASSWORD"])
    assert out.exit_code == 0, out.output
    [(rcpts, msg)] = smtp.wait_for(1)
    assert rcpts == ["ops@example.org"] and "notify-test" in msg["Subject"]
    out = runner.invoke(app, ["notify", "webhook", "JF_TEST_NOT_SET_EITHER"])
    assert out.exit_code == 1
    assert "secret 'JF_TEST_NOT_SET_EITHER' is not set" in out.output


def test_the_magic_sends_a_test_notification(hook: Receiver, fresh_shell: Any,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.error import UsageError

    shell = fresh_shell()
    shell.run_line_magic("flow", "notify JF_TEST_HOOK_URL --message 'from a notebook'")
    assert "sent a test notification to the webhook in $JF_TEST_HOOK_URL" in (
        capsys.readouterr().out)
    [body] = hook.wait_for(1)
    assert body["json"]["jupyter_flows"]["message"] == "from a notebook"
    with pytest.raises(UsageError, match="secret 'JF_TEST_NOT_SET_EITHER' is not set"):
        shell.run_line_magic("flow", "notify JF_TEST_NOT_SET_EITHER")
