"""The outgoing mail server from the settings, shared by the app and `python main.py check-mail`."""

from portal.config import Settings
from services import outbox


def smtp_transport(settings: Settings, dev_mailbox_port: int | None = None) -> outbox.SmtpTransport:
    """The real mail server from the settings, or the dev mailbox on loopback when no host is set."""
    if dev_mailbox_port is not None:
        return outbox.SmtpTransport(host='127.0.0.1', port=dev_mailbox_port, mail_from=settings.mail_from)
    return outbox.SmtpTransport(
        host=settings.smtp_host or '127.0.0.1',
        port=settings.smtp_port_or_default,
        mail_from=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        security=settings.smtp_security,
        ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
    )
