"""A real SMTP server for tests (aiosmtpd): mail that matters is sent over SMTP and read
back here, never from Django's in-memory outbox. The `mailbox` fixture is in conftest (the
browser tests' live site points its mail at the same kind of mailbox)."""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from email.message import EmailMessage
from email.policy import default as default_policy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler keeping every message received, in order of arrival:
    `messages` is a list of (recipients, message)."""

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self._taken: set[int] = set()
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self._arrived:
            self.messages.append(([address.lower() for address in envelope.rcpt_tos], message))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, *, subject: str = "", timeout: float = 15) -> EmailMessage:
        """The oldest message to `to` (with `subject` in its subject) not returned before."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for index, (recipients, message) in enumerate(self.messages):
                    if index not in self._taken and to.lower() in recipients and subject in message["Subject"]:
                        self._taken.add(index)
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    received = [(recipients, message["Subject"]) for recipients, message in self.messages]
                    raise AssertionError(f"no mail to {to} ({subject!r}) within {timeout}s; received: {received}")
                self._arrived.wait(remaining)


def first_link(message: EmailMessage) -> str:
    """The first http(s) link in the message's plain-text body."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^\s<>\"']+", body)
    assert match, f"no link in the mail {message['Subject']!r}:\n{body}"
    return match.group(0)
