"""Sending an email, through the standard library's smtplib: one small adapter.

The app sends one kind of message (a password-reset link), so a plain SMTP client is
enough and adds no dependency; smtplib ships and is maintained with Python. Settings
(``MAIL_*``) are read in ``config.py``; without ``MAIL_SERVER`` and ``MAIL_DEFAULT_SENDER``
nothing is sent and pages say whom to ask instead.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

log = logging.getLogger(__name__)


def mail_configured() -> bool:
    config = current_app.config
    return bool(config.get("MAIL_SERVER") and config.get("MAIL_DEFAULT_SENDER"))


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["MAIL_DEFAULT_SENDER"].rpartition("@")[2].strip("> ") or None)
    message.set_content(body)  # UTF-8, quoted-printable or base64 as needed: Vietnamese arrives intact
    return message


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; False (and a log line) if the server refused or was unreachable."""
    config = current_app.config
    message = build_message(to, subject, body)
    timeout = config.get("MAIL_TIMEOUT", 10)
    try:
        if config.get("MAIL_USE_SSL"):
            client = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
        with client:
            if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
                client.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to %s not sent: %s", to, exc)
        return False
    return True
