"""``jupyter-flows notify webhook|email``: send one test notification, to check a secret and
a receiver before a flow run needs them."""

from __future__ import annotations

import typer

from jupyter_flows.cli.apps import App, app
from jupyter_flows.cli.common import fail

notify_app = App(help="Send a test failure notification (webhook or email).")
app.add_typer(notify_app, name="notify")

_MESSAGE = typer.Option("a test notification from jupyter-flows", "--message",
                        help="the failure message to send")


@notify_app.command("webhook")
def webhook(
    secret: str = typer.Argument("SLACK_WEBHOOK_URL",
                                 help="the environment variable holding the webhook URL"),
    message: str = _MESSAGE,
) -> None:
    """POST one Slack-shaped JSON message to the URL in the environment variable SECRET."""
    from jupyter_flows.errors import NotificationError
    from jupyter_flows.utilities.notifications import webhook_notifier

    try:
        webhook_notifier(secret).send_test(message)
    except NotificationError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"sent a test notification to the webhook in ${secret}")


@notify_app.command("email")
def email(
    to: list[str] = typer.Option(..., "--to", help="a recipient (repeat for more)"),
    smtp_host: str = typer.Option(..., "--smtp-host"),
    smtp_port: int = typer.Option(None, "--smtp-port",
                                  help="default 587 with starttls, 465 with ssl, else 25"),
    tls: str = typer.Option("starttls", "--tls", help="starttls, ssl or none"),
    from_addr: str = typer.Option(None, "--from"),
    username_secret: str = typer.Option(None, "--username-secret",
                                        help="the environment variable holding the login"),
    password_secret: str = typer.Option(None, "--password-secret",
                                        help="the environment variable holding the password"),
    message: str = _MESSAGE,
) -> None:
    """Send one test email through an SMTP server."""
    from jupyter_flows.errors import NotificationError
    from jupyter_flows.utilities.notifications import email_notifier

    try:
        email_notifier(to, smtp_host=smtp_host, smtp_port=smtp_port,
                       tls=None if tls == "none" else tls,  # type: ignore[arg-type]
                       from_addr=from_addr, username_secret=username_secret,
                       password_secret=password_secret).send_test(message)
    except NotificationError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"sent a test email to {', '.join(to)} through {smtp_host}")
