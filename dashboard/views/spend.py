"""What the team spent: a month's estimate with totals, charts per member, per label and per day,
the hosts and rentals behind it, the runway and what renting would have saved; each chart and
the lines as CSV. Every figure carries its basis (confirmed, inferred, estimated)."""

from __future__ import annotations

import csv
from datetime import date

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import permissions, selectors
from dashboard.selectors.buy_or_rent import buy_or_rent
from dashboard.selectors.runway import runway_get
from dashboard.views.common import csv_cell

# The charts (templates/spend/month.html) are drawn in CSS pixels across their box, never
# scaled, so their text is as big on a phone as on a wide screen. Bar charts: a row this tall
# per name, the name in the first 27 % of the width, the bar in the next 44 % (the largest
# amount fills it), the amount at the right. The day chart: a column per day, this tall at most.
ROW_PX = 28
DAY_CHART_PX = 160
CSV_CHARTS = ("member", "label", "day")


def _month(request: HttpRequest) -> date:
    """?month=2026-11, else this month (in the team's time zone)."""
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        return date(year, month, 1) if 2000 <= year <= 2100 else today.replace(day=1)
    except ValueError:
        return today.replace(day=1)


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def bar_rows(items, *, empty_name: str) -> list[dict]:
    """A horizontal bar chart's rows from (name, Figure) pairs: the bar shows the high end."""
    top = max((figure.high for _name, figure in items), default=0) or 1
    return [
        {
            "name": name or empty_name,
            "figure": figure,
            # Of the bar's area, in percent; a sliver at least, so every bar can be seen.
            "percent": f"{max(1.0, float(100 * figure.high / top)):.1f}",
            "y": ROW_PX * index,
        }
        for index, (name, figure) in enumerate(items)
    ]


def day_columns(items, month: date) -> list[dict]:
    """The day chart's columns, one per day that had spend, placed by day of the month."""
    top = max((figure.high for _day, figure in items), default=0) or 1
    days = 31
    width = 100 / days
    columns = []
    for day, figure in items:
        height = max(2, int(DAY_CHART_PX * figure.high / top))
        columns.append(
            {
                "day": day,
                "figure": figure,
                "x": f"{width * (day.day - 1):.2f}",
                "width": f"{width * 0.8:.2f}",
                "height": height,
                "y": DAY_CHART_PX - height,
            }
        )
    return columns


@require_GET
def spend(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    estimate = selectors.month_spend(month=month)
    members = bar_rows(estimate.by_member(), empty_name=_("(unowned)"))
    labels = bar_rows(estimate.by_label(), empty_name=_("(no label)"))
    context = {
        "month": month,
        "previous": _shift(month, -1),
        "next": _shift(month, 1) if _shift(month, 1) <= timezone.localdate() else None,
        "estimate": estimate,
        "bars": members,
        "chart_height": ROW_PX * len(members),
        "label_bars": labels,
        "label_chart_height": ROW_PX * len(labels),
        "day_columns": day_columns(estimate.by_day(), month),
        "day_chart_height": DAY_CHART_PX,
        "runway": runway_get(),
        "buy_or_rent": buy_or_rent(estimate),
        "runway_alert_hours": settings.XDS_RUNWAY_ALERT_HOURS,
        "may_record_balance": permissions.has(request.user, "dashboard.add_walletbalance"),
    }
    return render(request, "spend/month.html", context)


def _csv_response(filename: str) -> tuple[HttpResponse, csv.writer]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response, csv.writer(response)


def _figure_cells(figure) -> list:
    if figure is None:
        return ["", "", "unknown"]
    return [figure.low, figure.high, figure.basis.slug]


@require_GET
def spend_csv(request: HttpRequest) -> HttpResponse:
    """The month's lines, or with ?by=member|label|day the rows of that chart."""
    month = _month(request)
    by = request.GET.get("by", "")
    if by and by not in CSV_CHARTS:
        raise Http404(_("There is no such chart."))
    estimate = selectors.month_spend(month=month)
    if by:
        response, writer = _csv_response(f"spend-{month:%Y-%m}-by-{by}.csv")
        writer.writerow([by, "amount_low", "amount_high", "basis"])
        rows = {
            "member": estimate.by_member,
            "label": estimate.by_label,
            "day": estimate.by_day,
        }[by]()
        for key, figure in rows:
            writer.writerow([csv_cell(str(key)), *_figure_cells(figure)])
        return response
    response, writer = _csv_response(f"spend-{month:%Y-%m}.csv")
    writer.writerow(
        [
            "month",
            "kind",
            "host_id",
            "host",
            "member",
            "labels",
            "hours",
            "price",
            "amount",
            "amount_high",
            "basis",
        ]
    )
    for line in estimate.lines:
        hourly = getattr(line, "hourly_price", None)
        amount = line.amount
        writer.writerow(
            [
                f"{month:%Y-%m}",
                "pay-as-you-go" if line.kind == "payg" else line.kind,
                csv_cell(getattr(line, "disk_id", "") or line.host_id),  # a disk's own id
                csv_cell(line.name),
                csv_cell(line.member),
                csv_cell(" ".join(line.labels)),
                getattr(line, "hours", ""),
                "" if hourly is None else hourly.low,
                "" if amount is None else amount.low,
                "" if amount is None else amount.high,
                line.basis.slug,
            ]
        )
    return response
