import uuid
from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dashboard.models import ACTION_SLUGS, PERIOD_LABELS, PERIOD_LABELS_PLURAL, Operation
from dashboard.permissions import can_request
from vmclient.types import PeriodType

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


@register.simple_tag
def new_key() -> str:
    """A fresh idempotency key for a form that asks for an operation."""
    return str(uuid.uuid4())


@register.simple_tag(takes_context=True)
def host_actions(context, host) -> list[dict]:
    """The action buttons to offer on `host`: what its state allows and the member may do."""
    user = context.get("user")
    return [
        {"kind": kind, "slug": ACTION_SLUGS[kind], "label": Operation.Kind(kind).label}
        for kind in host.actions_allowed
        if can_request(user, kind, host)
    ]


@register.filter
def in_language(item) -> str:
    """An operation's message or a timeline entry's detail in the member's language."""
    language = get_language()
    if isinstance(item, Operation):
        return item.message_in(language)
    return item.detail_in(language)


@register.filter
def period_label(value, number=None) -> str:
    """A rental period: "3 months" with a number, "Month" without."""
    try:
        period = PeriodType(int(value))
    except (TypeError, ValueError):
        return "—"
    if number in (None, ""):
        return str(PERIOD_LABELS.get(period, "—"))
    labels = PERIOD_LABELS_PLURAL if int(number) != 1 else PERIOD_LABELS
    return f"{number} {str(labels.get(period, '')).lower()}"
