"""Reads of the catalog (templates and images), from the cache the worker fills."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache

from dashboard.models import AREA_LABELS, BILLING_LABELS
from dashboard.selectors.hosts import AREA_BY_SLUG, BILLING_BY_SLUG
from vmclient.types import Area, BillingType, Image, Package

CATALOG_CACHE_KEY = "xds:catalog:v1"

logger = logging.getLogger(__name__)


class CatalogUnreadable(Exception):
    """The cache that holds the catalog does not answer (its Redis is down): unlike a catalog
    not cached yet (None), asking the worker cannot help until the cache is back."""


def _cached_catalog() -> dict | None:
    try:
        return cache.get(CATALOG_CACHE_KEY)
    except Exception as exc:
        # The error's class only: a connection error's text names the cache's address.
        logger.warning("catalog unreadable: the cache failed (%s)", type(exc).__name__)
        raise CatalogUnreadable from exc


# --- Catalog -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateRow:
    """One template of the catalog, merged across the two lists it may appear in."""

    package: Package
    billing_types: tuple[BillingType, ...]
    hourly_prices: tuple[Decimal, ...]  # distinct prices after discount, usually one
    images: tuple[Image, ...] = field(default=())

    @property
    def area_label(self) -> str:
        area = self.package.area
        return "" if area is None else str(AREA_LABELS[area])

    @property
    def billing_labels(self) -> list[str]:
        return [str(BILLING_LABELS[billing]) for billing in self.billing_types]

    @property
    def discounted(self) -> bool:
        return self.package.amount is not None and self.package.discount < 1


@dataclass(frozen=True)
class ImageRow:
    image: Image
    template_count: int  # templates of the image's type


@dataclass(frozen=True)
class ImageGroup:
    system: str
    images: tuple[ImageRow, ...]


@dataclass(frozen=True)
class Catalog:
    templates: tuple[TemplateRow, ...]
    image_groups: tuple[ImageGroup, ...]
    refreshed_at: datetime | None


def catalog_get(*, billing: str = "", area: str = "") -> Catalog | None:
    """The cached catalog, filtered; None while it is not cached yet (or has expired).
    Raises CatalogUnreadable when the cache fails."""
    cached = _cached_catalog()
    if not cached:
        return None
    packages: Iterable[Package] = cached.get("packages", ())
    images: tuple[Image, ...] = tuple(cached.get("images", ()))
    templates = _merge_templates(packages, images)
    if billing in BILLING_BY_SLUG:
        wanted = BillingType(BILLING_BY_SLUG[billing])
        templates = [row for row in templates if wanted in row.billing_types]
    if area in AREA_BY_SLUG:
        templates = [row for row in templates if row.package.area == Area(AREA_BY_SLUG[area])]
    return Catalog(
        templates=tuple(templates),
        image_groups=_group_images(images, _merge_templates(packages, ())),
        refreshed_at=cached.get("refreshed_at"),
    )


def _merge_templates(packages: Iterable[Package], images: tuple[Image, ...]) -> list[TemplateRow]:
    copies: dict[str, list[Package]] = defaultdict(list)
    for package in packages:
        copies[package.package_id].append(package)
    rows = []
    for same in copies.values():
        first = same[0]
        billing_types = tuple(b for b in BillingType if any(p.allows(b) for p in same))
        prices = tuple(sorted({p.hourly_price for p in same if p.hourly_price is not None}))
        compatible = tuple(
            sorted(
                (image for image in images if first.is_compatible_with(image)),
                key=lambda image: image.label,
            )
        )
        rows.append(TemplateRow(first, billing_types, prices, compatible))
    rows.sort(
        key=lambda row: (
            row.package.area is None,
            row.package.area or 0,
            row.hourly_prices[0] if row.hourly_prices else Decimal("Infinity"),
            row.package.name,
        )
    )
    return rows


def _group_images(
    images: tuple[Image, ...], templates: list[TemplateRow]
) -> tuple[ImageGroup, ...]:
    per_type: dict[str, int] = defaultdict(int)
    for row in templates:
        if row.package.type:
            per_type[row.package.type] += 1
    groups: dict[str, list[ImageRow]] = defaultdict(list)
    for image in images:
        groups[image.system_name or ""].append(ImageRow(image, per_type.get(image.type or "", 0)))
    return tuple(
        ImageGroup(
            system=system,
            images=tuple(
                sorted(rows, key=lambda r: (r.image.system_version or "", r.image.image_id))
            ),
        )
        for system, rows in sorted(groups.items(), key=lambda item: (not item[0], item[0]))
    )


@dataclass(frozen=True)
class PackageChoice:
    """What a create can be made of with one template: its compatible images, the billing types
    it allows, and the copy of the template each billing type's list priced it with."""

    row: TemplateRow
    copies: tuple[Package, ...]
    # The team's usable personal images, offered with every template after the provider's
    # (UNVERIFIED: the docs do not say a create takes one, nor which templates one fits).
    personal: tuple[Image, ...] = ()

    @property
    def package(self) -> Package:
        return self.row.package

    @property
    def images(self) -> tuple[Image, ...]:
        return self.row.images + self.personal

    @property
    def billing_types(self) -> tuple[BillingType, ...]:
        return self.row.billing_types

    def package_for(self, billing: BillingType) -> Package | None:
        """The copy priced for `billing`: the one from that billing type's list if any."""
        allowing = [copy for copy in self.copies if copy.allows(billing)]
        listed = [copy for copy in allowing if copy.listed_for is billing]
        return (listed or allowing or [None])[0]

    def image(self, image_id: str) -> Image | None:
        return next((image for image in self.images if image.image_id == image_id), None)


def package_choice(*, package_id: str) -> PackageChoice | None:
    """The cached template `package_id` with its compatible images; None when the catalog is
    not cached or has no such template. Raises CatalogUnreadable when the cache fails."""
    if not package_id:
        return None
    cached = _cached_catalog()
    if not cached:
        return None
    copies = tuple(p for p in cached.get("packages", ()) if p.package_id == package_id)
    if not copies:
        return None
    catalog_images = tuple(cached.get("images", ()))
    rows = _merge_templates(copies, catalog_images)
    from dashboard.selectors.images import usable_personal_images_as_catalog

    ids = {image.image_id for image in catalog_images}
    personal = tuple(i for i in usable_personal_images_as_catalog() if i.image_id not in ids)
    return PackageChoice(row=rows[0], copies=copies, personal=personal)
