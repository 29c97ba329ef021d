"""The demo's and an unconfigured install's mailbox: each e-mail is a readable file.

Django's console backend prints a message as it would go on the wire: subjects and bodies that
are not plain ASCII (a "¥", a Chinese host name) come out MIME-encoded, in the middle of the
worker's output. This backend writes each message to a text file of its own under
XDS_VAR_DIR/mail/ (EMAIL_FILE_PATH), headers decoded and the body as it was written, and logs
one line naming the file and the subject. With DJANGO_EMAIL_HOST set, mail goes by SMTP
instead (settings.py).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger(__name__)


class OutboxEmailBackend(BaseEmailBackend):
    def __init__(self, *, file_path: str | Path | None = None, fail_silently: bool = False, **kw):
        super().__init__(fail_silently=fail_silently, **kw)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                path = self._write(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            logger.info(
                "e-mail to %s written to %s: %s",
                ", ".join(message.recipients()),
                path,
                message.subject,
            )
            sent += 1
        return sent

    def _write(self, message) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = timezone.localtime()
        # Sorted by time in a listing; the random part keeps two mails of one second apart.
        path = self.directory / f"{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.txt"
        headers = [
            ("Date", f"{now:%Y-%m-%d %H:%M:%S %Z}"),
            ("From", message.from_email),
            ("To", ", ".join(message.to)),
            ("Cc", ", ".join(message.cc)),
            ("Subject", message.subject),
        ]
        lines = [f"{name}: {value}" for name, value in headers if value]
        text = "\n".join(lines) + "\n\n" + message.body.rstrip("\n") + "\n"
        with path.open("x", encoding="utf-8") as out:  # never overwrite another mail
            out.write(text)
        return path
