"""What the team spent: a month's estimate with totals, a chart per member, the hosts and the
rentals behind it, and the same as CSV."""

from __future__ import annotations

import csv
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import selectors
from dashboard.views.common import csv_cell

# The chart (templates/spend/month.html) is drawn in CSS pixels across its box, never scaled,
# so its text is as big on a phone as on a wide screen: a row this tall per member, the name in
# the first 27 % of the width, the bar in the next 44 % (the largest amount fills it), the amount
# at the right.
ROW_PX = 28


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


@require_GET
def spend(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    estimate = selectors.month_spend(month=month)
    members = estimate.by_member()
    top = max((amount for _name, amount in members), default=0) or 1
    bars = [
        {
            "name": name or _("(unowned)"),
            "amount": amount,
            # Of the bar's area, in percent; a sliver at least, so every bar can be seen.
            "percent": f"{max(1.0, float(100 * amount / top)):.1f}",
            "y": ROW_PX * index,
        }
        for index, (name, amount) in enumerate(members)
    ]
    context = {
        "month": month,
        "previous": _shift(month, -1),
        "next": _shift(month, 1) if _shift(month, 1) <= timezone.localdate() else None,
        "estimate": estimate,
        "bars": bars,
        "chart_height": ROW_PX * len(bars),
    }
    return render(request, "spend/month.html", context)


@require_GET
def spend_csv(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    estimate = selectors.month_spend(month=month)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="spend-{month:%Y-%m}.csv"'
    writer = csv.writer(response)
    writer.writerow(["month", "kind", "host_id", "host", "member", "hours", "price", "amount"])
    for host in estimate.hosts:
        writer.writerow(
            [
                f"{month:%Y-%m}",
                "pay-as-you-go",
                csv_cell(host.host_id),
                csv_cell(host.name),
                csv_cell(host.owner),
                host.hours,
                "" if host.hourly_price is None else host.hourly_price,
                "" if host.amount is None else host.amount,
            ]
        )
    for disk in estimate.disks:
        writer.writerow(
            [
                f"{month:%Y-%m}",
                "disk",
                csv_cell(disk.disk_id),
                csv_cell(disk.name),
                csv_cell(disk.owner),
                disk.hours,
                "" if disk.hourly_price is None else disk.hourly_price,
                "" if disk.amount is None else disk.amount,
            ]
        )
    for rental in estimate.rentals:
        writer.writerow(
            [
                f"{month:%Y-%m}",
                "rental",
                csv_cell(rental.host_id),
                csv_cell(rental.host_name),
                csv_cell(rental.member),
                "",
                "",
                rental.amount,
            ]
        )
    return response
