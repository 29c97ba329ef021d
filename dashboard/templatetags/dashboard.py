import uuid
from datetime import datetime
from decimal import Decimal

from django import template
from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, ngettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.models import ACTION_SLUGS, PERIOD_LABELS, Operation
from dashboard.selectors.host_prices import Basis
from dashboard.services import approval_policy, resolutions
from dashboard.services.bulk import BULK_KINDS
from vmclient.types import PeriodType

register = template.Library()


# The units a price can be per, as the member's language writes them.
PRICE_UNITS = {"h": pgettext_lazy("a price per hour: ¥4.50 / h", "h")}
# A number of rental periods: one message each, so every language words it its own way ("3 个月").
PERIOD_COUNTS = {
    PeriodType.DAY: ngettext_lazy("%(n)d day", "%(n)d days", "n"),
    PeriodType.WEEK: ngettext_lazy("%(n)d week", "%(n)d weeks", "n"),
    PeriodType.MONTH: ngettext_lazy("%(n)d month", "%(n)d months", "n"),
    PeriodType.QUARTER: ngettext_lazy("%(n)d quarter", "%(n)d quarters", "n"),
    PeriodType.YEAR: ngettext_lazy("%(n)d year", "%(n)d years", "n"),
}


@register.filter
def money(value: Decimal | None, per: str = "") -> str:
    """4.5 -> "¥4.50", or "¥4.50 / h" with per="h"."""
    if value is None or value == "":
        return "—"
    text = f"¥{Decimal(value):,.2f}"
    return f"{text} / {PRICE_UNITS.get(per, per)}" if per else text


@register.filter
def figure(value, per: str = "") -> str:
    """A `Figure` as "¥63.00" or "¥58.00–¥72.00" (a range: the price is one of several), with
    its marker: confirmed, inferred or estimated. None: "unknown"."""
    if value is None:
        return format_html('<span class="basis basis-unknown">{}</span>', Basis.UNKNOWN.label)
    text = money(value.low) if not value.is_range else f"{money(value.low)}–{money(value.high)}"
    if per:
        text = f"{text} / {PRICE_UNITS.get(per, per)}"
    return format_html(
        '{} <span class="basis basis-{}">{}</span>', text, value.basis.slug, value.basis.label
    )


@register.filter
def not_all_confirmed(rows) -> bool:
    """Whether a chart's rows (dicts with a `figure`) hold a figure that is not confirmed."""
    return any(not row["figure"].is_confirmed for row in rows)


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
def page_title(context) -> str:
    """The page's {% block title %} once more: the heading page.html gives a page that names no
    other, so a page writes its title once and its <h1> cannot drift from the tab's name."""
    block_context = context.render_context.get(BLOCK_CONTEXT_KEY)
    title = block_context.get_block("title") if block_context else None
    return title.render(context) if title else ""


@register.simple_tag
def column_heads(*labels) -> str:
    """A table's head: one <th scope="col"> per label, in order. For a plain head only; one with
    sort links, classes or a column shown on a condition is written out in its template."""
    cells = format_html_join("", '<th scope="col">{}</th>', ((label,) for label in labels))
    return format_html("<thead><tr>{}</tr></thead>", cells)


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
    return [
        {"kind": kind, "slug": ACTION_SLUGS[kind], "label": Operation.Kind(kind).label}
        for kind in permissions.host_actions_offered(context.get("user"), host)
    ]


@register.simple_tag(takes_context=True)
def host_pickable(context, host) -> bool:
    """Whether the row gets a checkbox for the bulk actions: one of them is offered on it."""
    offered = permissions.host_actions_offered(context.get("user"), host)
    return any(kind in BULK_KINDS for kind in offered)


@register.simple_tag(takes_context=True)
def nothing_offered(context, host) -> dict:
    """Why no action is offered on `host`: a word and a sentence."""
    word, detail = permissions.why_nothing_offered(context.get("user"), host)
    return {"word": word, "detail": detail}


@register.filter
def total_minutes(value) -> int:
    """A timedelta in whole minutes, rounded up (the sign-in lockout's cool-off)."""
    try:
        return max(1, -(-int(value.total_seconds()) // 60))
    except AttributeError:
        return 0


@register.simple_tag(takes_context=True)
def can_approve(context, operation) -> bool:
    return permissions.can_approve(context.get("user"), operation)


# The most hosts (disks, images) the form that resolves an unknown create lists.
RESOLVE_CHOICES_SHOWN = 200


@register.simple_tag(takes_context=True)
def resolve_choices(context, operation):
    """What an admin may say an unknown create made (hosts, disks or images, per its kind), or
    None when there is nothing for this member to resolve here (not an admin, or not a create
    whose outcome is unknown)."""
    made = resolutions.resolvable(operation)
    if made is None or not permissions.can_resolve(context.get("user")):
        return None
    return list(made.candidates(operation=operation)[:RESOLVE_CHOICES_SHOWN])


@register.filter
def create_price(operation):
    return approval_policy.create_price(operation)


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
    if period not in PERIOD_COUNTS:
        return "—"
    return PERIOD_COUNTS[period] % {"n": int(number)}
