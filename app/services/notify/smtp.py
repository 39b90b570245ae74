"""Handing one email to the SMTP server in settings, with the stdlib `smtplib`.

STARTTLS when SMTP_STARTTLS (refusing to go on in clear if the server does not offer it), a
login when SMTP_USERNAME is set, SMTP_TIMEOUT_SECONDS on every socket operation. Failures come
back as a `SmtpSendError` that says whether trying again later can help: a 4xx answer, a refused
or dropped connection, a timeout or a TLS/login problem (a setting to fix) are temporary; a 5xx
rejection of the sender, a recipient or the message is permanent.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from functools import lru_cache

from app.services.core.errors import InternalError
from app.settings import Settings


class SmtpSendError(InternalError):
    """The SMTP server did not take the email. `error` is for EmailMessage.last_error and the
    admin's outbox view (no secrets); `temporary` says whether trying later can help."""

    def __init__(self, error: str, *, temporary: bool) -> None:
        super().__init__(error)
        self.error = error
        self.temporary = temporary


@lru_cache(maxsize=4)
def _tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file or None)
    return context


def _answer(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}"[:400]


def send_mime(mime: MimeMessage, *, settings: Settings) -> None:
    """Send `mime` through SMTP_HOST; raises SmtpSendError."""
    host = settings.smtp_host
    if not host:
        raise SmtpSendError(temporary=True, error="SMTP_HOST is not set.")
    try:
        with smtplib.SMTP(host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                if not smtp.has_extn("starttls"):
                    raise SmtpSendError(
                        temporary=True,
                        error="The SMTP server does not offer STARTTLS (set SMTP_STARTTLS=false "
                        "only for a server on a trusted network).",
                    )
                ca_file = str(settings.smtp_ca_file) if settings.smtp_ca_file else ""
                smtp.starttls(context=_tls_context(ca_file))
                smtp.ehlo()
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
            refused = smtp.send_message(mime)
    except SmtpSendError:
        raise
    except smtplib.SMTPAuthenticationError as e:
        # A wrong password is ours to fix, not the recipient's: keep the email until it is.
        raise SmtpSendError(
            temporary=True, error="SMTP login refused: " + _answer(e.smtp_code, e.smtp_error)
        ) from e
    except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as e:
        # The server turned us away before any mail was offered: its trouble, not the address's.
        raise SmtpSendError(
            temporary=True,
            error="SMTP server refused the session: " + _answer(e.smtp_code, e.smtp_error),
        ) from e
    except smtplib.SMTPRecipientsRefused as e:
        codes = [code for code, _ in e.recipients.values()]
        code, text = next(iter(e.recipients.values()))
        raise SmtpSendError(
            temporary=all(400 <= c < 500 for c in codes),
            error="Recipient refused: " + _answer(code, text),
        ) from e
    except smtplib.SMTPResponseException as e:  # sender refused, data refused, other answers
        raise SmtpSendError(
            temporary=not 500 <= e.smtp_code < 600,
            error="SMTP server answered " + _answer(e.smtp_code, e.smtp_error),
        ) from e
    except TimeoutError as e:
        wait = settings.smtp_timeout_seconds
        raise SmtpSendError(
            temporary=True, error=f"No answer from {host}:{settings.smtp_port} within {wait:g} s."
        ) from e
    except ssl.SSLError as e:
        raise SmtpSendError(
            temporary=True, error=f"TLS with {host} failed: {e.reason or type(e).__name__}."
        ) from e
    except (smtplib.SMTPException, OSError) as e:
        raise SmtpSendError(
            temporary=True,
            error=f"Could not reach {host}:{settings.smtp_port}: {type(e).__name__}.",
        ) from e
    if refused:  # some recipients refused while others accepted; we send to one, so rare
        code, text = next(iter(refused.values()))
        raise SmtpSendError(
            temporary=400 <= code < 500, error="Recipient refused: " + _answer(code, text)
        )
