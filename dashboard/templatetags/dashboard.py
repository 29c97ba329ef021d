from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def money(value: Decimal | None, per: str = "") -> str:
    """4.5 -> "¥4.50", or "¥4.50 / h" with per="h"."""
    if value is None or value == "":
        return "—"
    text = f"¥{Decimal(value):,.2f}"
    return f"{text} / {per}" if per else text


@register.filter
def ago(value: datetime | None) -> str:
    """A short "12 s ago", "3 min ago", "2 h ago", "5 d ago"."""
    if value is None:
        return _("never")
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    if seconds < 60:
        return _("%(n)d s ago") % {"n": seconds}
    if seconds < 3600:
        return _("%(n)d min ago") % {"n": seconds // 60}
    if seconds < 86400:
        return _("%(n)d h ago") % {"n": seconds // 3600}
    return _("%(n)d d ago") % {"n": seconds // 86400}


@register.filter
def gb(value: int | None) -> str:
    return "—" if value is None else f"{value} GB"


@register.simple_tag(takes_context=True)
def sort_link(context, key: str) -> str:
    """The sort value a column header links to: ascending first, then toggles."""
    current = context.get("filters", {}).get("sort", "")
    return f"-{key}" if current == key else key


@register.simple_tag(takes_context=True)
def sort_state(context, key: str) -> str:
    current = context.get("filters", {}).get("sort", "")
    if current == key:
        return "ascending"
    if current == f"-{key}":
        return "descending"
    return "none"
