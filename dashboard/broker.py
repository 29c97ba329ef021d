"""The embedded broker: kombu's filesystem transport, with messages written atomically.

kombu (5.x) creates a message's file under its final name and then writes it, while a worker
lists the folder and reads files without a lock: it can read a message not yet written, fail to
decode it, and stop ("Unrecoverable error", celery/kombu#1551). Here a message is written under
a name no queue matches, then renamed into place, which is atomic on one filesystem.

`use_atomic_filesystem_transport()` (called by dashboard.celery) makes kombu's "filesystem"
scheme mean this transport, so any filesystem:// URL gets it and any other URL (Redis in
production) its own transport, whatever sets the URL.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu import transport as kombu_transports
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        # "partial-<uuid>.tmp": its part after the first dot is "tmp", never "<queue>.msg".
        partial = os.path.join(self.data_folder_out, f"partial-{uuid.uuid4()}.tmp")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def use_atomic_filesystem_transport() -> None:
    kombu_transports.TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
    kombu_transports._transport_cache.pop("filesystem", None)
