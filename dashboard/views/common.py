"""What every page's view needs: the polling settings, poll URLs."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def poll_context() -> dict:
    return {
        "poll_seconds": settings.XDS_POLL_SECONDS,
        "poll_hidden_seconds": settings.XDS_POLL_HIDDEN_SECONDS,
    }


def poll_url(name: str, *, args=(), **params) -> str:
    return f"{reverse(name, args=args)}?{urlencode(params)}"
