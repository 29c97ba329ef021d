"""The one answer to "this operation cannot be asked for now", and why.

It stands below everything that raises it (the rules of what may be done to a disk or an image,
and the services) and everything that catches it (the views, the API), so the rules need not
import the services to refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboard.models import Operation


class OperationRefused(Exception):
    """The operation cannot be asked for now. `message` says why, in the member's language;
    `in_flight` is the operation that blocks the host, if that is the reason."""

    def __init__(self, message: str, *, in_flight: Operation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.in_flight = in_flight
