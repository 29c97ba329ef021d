"""The catalog pages: templates and images, from the cache the worker fills."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from dashboard import selectors, services
from dashboard.forms import CatalogFilterForm
from dashboard.htmx import render_page
from dashboard.polling import poll_context


def _catalog(**filters):
    catalog = selectors.catalog_get(**filters)
    if catalog is None:
        # Never fetched here: the worker is asked, and the page shows "loading" meanwhile.
        services.catalog_refresh_request()
    return catalog


@require_GET
def package_list(request: HttpRequest) -> HttpResponse:
    filters = CatalogFilterForm(request.GET).values()
    context = {
        "catalog": _catalog(**filters),
        "filters": filters,
        "form": CatalogFilterForm(initial=filters),
        **poll_context(),
    }
    return render_page(request, "catalog/packages.html", context, partial="catalog")


@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    context = {"catalog": _catalog(), **poll_context()}
    return render_page(request, "catalog/images.html", context, partial="catalog")
