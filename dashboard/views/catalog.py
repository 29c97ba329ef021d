"""The catalog pages: templates and images, from the cache the worker fills."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from dashboard import selectors, services
from dashboard.forms import CatalogFilterForm
from dashboard.htmx import render_page
from dashboard.polling import poll_context


def catalog_context(**filters) -> dict:
    """The catalog for a page, or why there is none: not cached yet (the worker is asked, the
    page says "loading" and asks again), or the cache unreadable (the page says so and asks
    again). Never fetched from the upstream here."""
    try:
        catalog = selectors.catalog_get(**filters)
    except selectors.CatalogUnreadable:
        return {"catalog": None, "catalog_unreadable": True}
    if catalog is None:
        services.catalog_refresh_request()
    return {"catalog": catalog}


@require_GET
def package_list(request: HttpRequest) -> HttpResponse:
    filters = CatalogFilterForm(request.GET).values()
    context = {
        **catalog_context(**filters),
        "filters": filters,
        "form": CatalogFilterForm(initial=filters),
        **poll_context(),
    }
    return render_page(request, "catalog/packages.html", context, partial="catalog")


@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    """The provider's images, from the catalog cache, and the team's personal images in a
    section of their own, from the mirror (dashboard.views.images)."""
    from dashboard.views.images import personal_context

    context = {**catalog_context(), **poll_context(), **personal_context(request)}
    return render_page(request, "catalog/images.html", context, partial="catalog")
