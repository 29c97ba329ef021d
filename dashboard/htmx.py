"""The one place that decides whether a request gets the whole page or just a fragment."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_partial(request: HttpRequest) -> bool:
    """An HTMX request swapping part of the page. A history restore (back button after a cache
    miss) and a boosted link need the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def render_page(
    request: HttpRequest, template: str, context: dict, *, partial: str | None = None
) -> HttpResponse:
    """Render `template`, or only its `{% partialdef partial %}` for an HTMX request. The
    response varies on HX-Request, so a cache never serves a fragment as the page."""
    name = f"{template}#{partial}" if partial and wants_partial(request) else template
    response = render(request, name, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
