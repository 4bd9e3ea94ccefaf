"""The drills' mail server: each message is appended, with its Message-ID, to one file that several
worker processes share (O_APPEND, one write per line). A slow server is imitated by waiting before the
message is accepted, which is where a killed worker dies."""

import os
import time

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class DrillMailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            time.sleep(settings.DRILL_SEND_SECONDS)
            line = f"{message.extra_headers.get('Message-ID', '')} {os.getpid()}\n".encode()
            fd = os.open(settings.DRILL_SINK, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return len(email_messages)


def read_sink(path):
    """{Message-ID: times accepted} from a drill's sink file."""
    counts = {}
    if os.path.exists(path):
        with open(path) as sink:
            for line in sink:
                message_id = line.split()[0]
                counts[message_id] = counts.get(message_id, 0) + 1
    return counts
