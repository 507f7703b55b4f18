"""Notifiers for state changes, at Prefect 1.x's path (``prefect.utilities.notifications``).

A notifier is usable both ways Prefect users attach one:

- as a state handler, ``state_handlers=[slack_notifier]`` or
  ``state_handlers=[slack_notifier(only_states=[Failed])]``, called ``(obj, old, new)``;
- as ``on_failure=webhook_notifier("HOOK_URL")`` on a task or a flow, called ``(obj, state)``.

Secrets (a webhook URL, an SMTP password) are named, never given: the notifier holds the
name of an environment variable and reads its value when it sends, from the process
environment (where an agent puts the run config's ``env``) or, for a flow, from
``flow.run_config.env``. So a flow's code and spec carry no secret.

A notifier that cannot send (a secret not set, a receiver down) logs why and returns: a
notification never changes the state of what it reports on.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from typing import Any, Literal

import httpx

from jupyter_flows.core.context import get_run_context
from jupyter_flows.core.flow import Flow
from jupyter_flows.engine.states import Failed, State
from jupyter_flows.errors import NotificationError

__all__ = ["EmailNotifier", "Notifier", "WebhookNotifier", "email_notifier",
           "gmail_notifier", "slack_notifier", "webhook_notifier"]

_log = logging.getLogger("jupyter_flows.notifications")

StateFilter = Sequence[type[State]] | None
_NOT_GIVEN: Any = object()


def secret_value(name: str, tracked_obj: Any = None) -> str:
    """The value of the secret ``name``: the environment variable, else the tracked flow's
    run config ``env``; a clear error when neither has it."""
    value = os.environ.get(name)
    if value:
        return value
    run_config = getattr(tracked_obj, "run_config", None)
    env = getattr(run_config, "env", None)
    if isinstance(run_config, Mapping):
        env = run_config.get("env")
    if isinstance(env, Mapping) and env.get(name):
        return str(env[name])
    raise NotificationError(
        f"secret {name!r} is not set: define the environment variable {name} "
        f"(or put it in the run config's env)")


def describe(tracked_obj: Any, state: State) -> dict[str, Any]:
    """The structured facts of a notification: what changed, in which run, to what."""
    is_flow = isinstance(tracked_obj, Flow)
    ctx = get_run_context()
    facts: dict[str, Any] = {
        "kind": "flow" if is_flow else "task",
        "name": getattr(tracked_obj, "name", str(tracked_obj)),
        "slug": None if is_flow else getattr(tracked_obj, "slug", None),
        "flow_name": tracked_obj.name if is_flow else (ctx.flow_name if ctx else None),
        # a flow's final state carries its run id; a task's handlers run in its context
        "flow_run_id": ((ctx.flow_run_id if ctx else None)
                        or (state.context or {}).get("flow_run_id")
                        or os.environ.get("JUPYTER_FLOWS_FLOW_RUN_ID")),
        "map_index": None if is_flow or ctx is None else ctx.map_index,
        "state": state.name,
        "message": state.message,
        "timestamp": state.datetime.isoformat(),
    }
    return facts


def summary(facts: Mapping[str, Any]) -> str:
    """One line a person reads: ``Task 'load' (load-1) of flow 'etl' is Failed: ...``."""
    what = f"{facts['kind'].capitalize()} {facts['name']!r}"
    if facts["kind"] == "task":
        if facts.get("slug"):
            what += f" ({facts['slug']}"
            what += f"[{facts['map_index']}])" if facts.get("map_index") is not None else ")"
        if facts.get("flow_name"):
            what += f" of flow {facts['flow_name']!r}"
    text = f"{what} is {facts['state']}"
    if facts.get("message"):
        text += f": {facts['message']}"
    if facts.get("flow_run_id"):
        text += f" (flow run {facts['flow_run_id']})"
    return text


class Notifier:
    """The shared part: state filters, both calling conventions, and errors kept out of the
    run. Subclasses define ``send(tracked_obj, state)``."""

    def __init__(self, *, only_states: StateFilter = None,
                 ignore_states: StateFilter = None) -> None:
        self.only_states = tuple(only_states) if only_states else ()
        self.ignore_states = tuple(ignore_states) if ignore_states else ()
        for cls in (*self.only_states, *self.ignore_states):
            if not (isinstance(cls, type) and issubclass(cls, State)):
                raise NotificationError(
                    f"{type(self).__name__}: only_states and ignore_states take State "
                    f"classes such as Failed, got {cls!r}")

    def wants(self, state: State) -> bool:
        if self.only_states and not isinstance(state, self.only_states):
            return False
        return not isinstance(state, self.ignore_states) if self.ignore_states else True

    def __call__(self, tracked_obj: Any, old_or_state: State | None,
                 new_state: State = _NOT_GIVEN) -> State:
        # (obj, old, new) as a state handler; (obj, state) as on_failure
        state = old_or_state if new_state is _NOT_GIVEN else new_state
        if state is None:
            raise NotificationError(f"{type(self).__name__} was called without a state")
        if self.wants(state):
            try:
                self.send(tracked_obj, state)
            except Exception as exc:  # a notification must never fail what it reports on
                _log.error("%s could not notify about %s %r (%s): %s", type(self).__name__,
                           getattr(tracked_obj, "name", tracked_obj), state.name,
                           state.message, exc)
        return state

    def send(self, tracked_obj: Any, state: State) -> None:
        raise NotImplementedError

    def send_test(self, message: str = "a test notification from jupyter-flows") -> None:
        """Send one message now, as if a flow ``notify-test`` had failed with ``message``,
        raising ``NotificationError`` when it cannot: to check a secret and a receiver
        before a run needs them (``jupyter-flows notify``, ``%flow notify``)."""
        try:
            self.send(Flow("notify-test"), Failed(message))
        except NotificationError:
            raise
        except Exception as exc:
            raise NotificationError(f"{self!r} could not send: {type(exc).__name__}: "
                                    f"{exc}") from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class WebhookNotifier(Notifier):
    """POSTs JSON to the URL in the secret ``webhook_url_secret``: Slack's incoming-webhook
    shape (``text`` plus ``attachments``) and the same facts as plain fields under
    ``jupyter_flows``, so any other receiver can read them."""

    def __init__(self, webhook_url_secret: str = "SLACK_WEBHOOK_URL", *,
                 only_states: StateFilter = None, ignore_states: StateFilter = None,
                 timeout: float = 10.0, proxies: str | None = None) -> None:
        super().__init__(only_states=only_states, ignore_states=ignore_states)
        if not webhook_url_secret or not isinstance(webhook_url_secret, str):
            raise NotificationError("WebhookNotifier.webhook_url_secret: the name of an "
                                    f"environment variable, got {webhook_url_secret!r}")
        self.webhook_url_secret = webhook_url_secret
        self.timeout = timeout
        self.proxies = proxies

    def payload(self, tracked_obj: Any, state: State) -> dict[str, Any]:
        facts = describe(tracked_obj, state)
        fields = [{"title": "State", "value": facts["state"], "short": True},
                  {"title": "Flow", "value": facts["flow_name"] or "", "short": True}]
        if facts["flow_run_id"]:
            fields.append({"title": "Flow run", "value": facts["flow_run_id"], "short": False})
        if facts["message"]:
            fields.append({"title": "Message", "value": facts["message"], "short": False})
        return {
            "text": summary(facts),
            "attachments": [{"color": getattr(state, "color", "#cccccc"),
                             "title": f"{facts['kind']} {facts['name']}: {facts['state']}",
                             "fields": fields, "fallback": summary(facts)}],
            "jupyter_flows": facts,
        }

    def send(self, tracked_obj: Any, state: State) -> None:
        url = secret_value(self.webhook_url_secret, tracked_obj)
        response = httpx.post(url, json=self.payload(tracked_obj, state),
                              timeout=self.timeout, proxy=self.proxies)
        if response.is_error:
            raise NotificationError(f"webhook answered {response.status_code}: "
                                    f"{response.text[:200]}")

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.webhook_url_secret!r})"


TLS = Literal["starttls", "ssl", None]


class EmailNotifier(Notifier):
    """Sends a plain-text email over SMTP (``tls="starttls"``, ``"ssl"`` or ``None``); the
    login and password come from the secrets named by ``username_secret`` and
    ``password_secret`` (no login when ``password_secret`` is None)."""

    def __init__(self, to: str | Sequence[str] | None = None, *, smtp_host: str,
                 smtp_port: int | None = None, tls: TLS = "starttls",
                 from_addr: str | None = None, username_secret: str | None = None,
                 password_secret: str | None = None, only_states: StateFilter = None,
                 ignore_states: StateFilter = None, timeout: float = 30.0) -> None:
        super().__init__(only_states=only_states, ignore_states=ignore_states)
        if tls not in ("starttls", "ssl", None):
            raise NotificationError(
                f"EmailNotifier.tls: expected 'starttls', 'ssl' or None, got {tls!r}")
        if not smtp_host:
            raise NotificationError("EmailNotifier.smtp_host: an SMTP server is needed")
        if to is None and username_secret is None:
            raise NotificationError("EmailNotifier.to: give recipients (or a username_secret "
                                    "whose address receives the mail)")
        self.to = [to] if isinstance(to, str) else list(to or ())
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port or {"ssl": 465, "starttls": 587}.get(str(tls), 25)
        self.tls = tls
        self.from_addr = from_addr
        self.username_secret = username_secret
        self.password_secret = password_secret
        self.timeout = timeout

    def message(self, tracked_obj: Any, state: State, sender: str,
                recipients: Sequence[str]) -> EmailMessage:
        facts = describe(tracked_obj, state)
        msg = EmailMessage()
        msg["Subject"] = f"[jupyter-flows] {facts['kind']} {facts['name']!r} is {state.name}"
        msg["From"] = sender
        msg["To"] = ", ".join(recipients)
        lines = [summary(facts), ""]
        lines += [f"{key}: {value}" for key, value in facts.items() if value is not None]
        msg.set_content("\n".join(lines) + "\n")
        return msg

    def send(self, tracked_obj: Any, state: State) -> None:
        username = (secret_value(self.username_secret, tracked_obj)
                    if self.username_secret else None)
        password = (secret_value(self.password_secret, tracked_obj)
                    if self.password_secret else None)
        recipients = self.to or [str(username)]
        sender = self.from_addr or username or "jupyter-flows@localhost"
        msg = self.message(tracked_obj, state, sender, recipients)
        smtp_class = smtplib.SMTP_SSL if self.tls == "ssl" else smtplib.SMTP
        kwargs: dict[str, Any] = {"timeout": self.timeout}
        if self.tls == "ssl":
            kwargs["context"] = ssl.create_default_context()
        with smtp_class(self.smtp_host, self.smtp_port, **kwargs) as smtp:
            if self.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if password is not None:
                smtp.login(username or sender, password)
            smtp.send_message(msg)

    def __repr__(self) -> str:
        return f"EmailNotifier({self.to!r}, smtp_host={self.smtp_host!r})"


def webhook_notifier(webhook_url_secret: str = "SLACK_WEBHOOK_URL", *,
                     only_states: StateFilter = None, ignore_states: StateFilter = None,
                     timeout: float = 10.0) -> WebhookNotifier:
    """A webhook notifier reading its URL from the secret ``webhook_url_secret``."""
    return WebhookNotifier(webhook_url_secret, only_states=only_states,
                           ignore_states=ignore_states, timeout=timeout)


def email_notifier(to: str | Sequence[str] | None = None, *, smtp_host: str,
                   smtp_port: int | None = None, tls: TLS = "starttls",
                   from_addr: str | None = None, username_secret: str | None = None,
                   password_secret: str | None = None, only_states: StateFilter = None,
                   ignore_states: StateFilter = None) -> EmailNotifier:
    """An SMTP notifier; see ``EmailNotifier``."""
    return EmailNotifier(to, smtp_host=smtp_host, smtp_port=smtp_port, tls=tls,
                         from_addr=from_addr, username_secret=username_secret,
                         password_secret=password_secret, only_states=only_states,
                         ignore_states=ignore_states)


def _curried(make: Callable[..., Notifier], tracked_obj: Any, old_state: Any,
             new_state: Any, options: dict[str, Any]) -> Any:
    # Prefect's notifiers are curried: called with the handler arguments they notify,
    # called with options only they return a configured handler
    notifier = make(**options)
    if tracked_obj is None:
        return notifier
    return notifier(tracked_obj, old_state, new_state)


def slack_notifier(tracked_obj: Any = None, old_state: State | None = None,
                   new_state: State | None = None, *, ignore_states: StateFilter = None,
                   only_states: StateFilter = None, webhook_secret: str | None = None,
                   backend_info: bool = True, proxies: str | None = None) -> Any:
    """Prefect 1.x's ``slack_notifier``: a state handler posting each state change (after
    the filters) to the Slack webhook in the secret ``webhook_secret``
    (``SLACK_WEBHOOK_URL`` by default). ``backend_info`` is accepted for Prefect code."""
    return _curried(lambda **kw: WebhookNotifier(webhook_secret or "SLACK_WEBHOOK_URL",
                                                 proxies=proxies, **kw),
                    tracked_obj, old_state, new_state,
                    {"only_states": only_states, "ignore_states": ignore_states})


def gmail_notifier(tracked_obj: Any = None, old_state: State | None = None,
                   new_state: State | None = None, *, ignore_states: StateFilter = None,
                   only_states: StateFilter = None) -> Any:
    """Prefect 1.x's ``gmail_notifier``: emails the address in the secret
    ``EMAIL_USERNAME`` through Gmail's SMTP server, logging in with ``EMAIL_PASSWORD``."""
    return _curried(lambda **kw: EmailNotifier(smtp_host="smtp.gmail.com", smtp_port=465,
                                               tls="ssl", username_secret="EMAIL_USERNAME",
                                               password_secret="EMAIL_PASSWORD", **kw),
                    tracked_obj, old_state, new_state,
                    {"only_states": only_states, "ignore_states": ignore_states})

