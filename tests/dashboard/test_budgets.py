"""Monthly budgets per member and per label on a known history: the alerts at 80 % and 100 %
once each, a member over budget whose create waits for approval, the budget's page, and the
admin who sets budgets (audited; not their own)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboard import services
from dashboard.models import (
    AuditEvent,
    Budget,
    HostStatusChange,
    Label,
    Notification,
    Operation,
)
from dashboard.selectors.budgets import budget_status
from tests.dashboard.conftest import CREATE_KEY, PAYG, payg_confirmed
from vmclient.types import BillingType, HostStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_notifications_at_once")]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def in_shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def render_box(make_host, cleo):
    """cleo's box, bought through the dashboard at ¥10.00 / h, switched on on the 2nd at 08:00
    and left running."""
    host = make_host(
        name="render-01", billing_type=BillingType.PAY_AS_YOU_GO.value, owner=cleo,
        owner_name="cleo", first_seen_at=at(1, 0), status=HostStatus.RUNNING.value,
    )  # fmt: skip
    Operation.objects.create(
        kind="create_payg", state="succeeded", host=host, requested_by=cleo,
        requested_by_name="cleo", params={"hourly_price": "10.00"}, finished_at=at(1, 0),
    )  # fmt: skip
    HostStatusChange.objects.create(host=host, status=HostStatus.OFF, at=at(1, 0))
    HostStatusChange.objects.create(host=host, status=HostStatus.RUNNING, at=at(2, 8))
    return host


def test_a_members_disks_count_in_the_projection_not_a_labels(
    client, cleo, render_box, make_member
):
    """Disks have no labels: a member's budget projects what their disks cost to the month's end;
    a label's budget does not."""
    from dashboard.models import Disk

    held = {"size_gb": 100, "area": 0, "status": 0, "first_seen_at": at(1, 0),
            "last_seen_at": at(1, 0), "changed_at": at(1, 0), "created_at": at(1, 0)}  # fmt: skip
    Disk.objects.create(id="dk-1", name="data-01", price_per_hour=Decimal("0.50"), owner=cleo,
                        owner_name="cleo", **held)  # fmt: skip
    other = make_member("otto", "Creator")
    Disk.objects.create(id="dk-2", name="theirs", price_per_hour=Decimal("3.00"), owner=other,
                        owner_name="otto", **held)  # fmt: skip
    budget = Budget.objects.create(member=cleo, monthly_amount=Decimal("5000.00"))
    label = Label.objects.create(name="render")
    render_box.labels.add(label)
    by_label = Budget.objects.create(label=label, monthly_amount=Decimal("5000.00"))

    # On the 11th at 08:00: the box ran 9 days (216 h x ¥10 = ¥2160), the disk was held 10 days
    # and 8 h (248 h x ¥0.50 = ¥124); 19 days and 16 h (472 h) are left in November.
    status = budget_status(budget, now=at(11, 8))
    assert status.used.high == Decimal("2284.00")
    assert status.burn.hourly.high == Decimal("10.50")  # the box and cleo's disk, not otto's
    assert [d.id for d in status.burn.disks] == ["dk-1"]
    assert status.projected.high == Decimal("2284.00") + Decimal("10.50") * 472

    client.force_login(make_member("vic", "Viewer"))
    page = client.get(f"/budgets/{budget.pk}/").content.decode()
    assert "Disks held now" in page and 'href="/disks/dk-1/"' in page and "theirs" not in page

    labelled = budget_status(by_label, now=at(11, 8))
    assert labelled.burn.hourly.high == Decimal("10.00") and labelled.burn.disks == ()
    assert labelled.projected.high == Decimal("2160.00") + Decimal("10.00") * 472


def check(now, capture):
    with capture(execute=True):
        return services.budgets_check(now=now)


def test_a_budget_crossing_80_and_100_percent_is_told_once_each(
    cleo, ada, render_box, django_capture_on_commit_callbacks, mailoutbox
):
    budget = Budget.objects.create(member=cleo, monthly_amount=Decimal("100.00"))
    capture = django_capture_on_commit_callbacks

    assert check(at(2, 15), capture) == 0  # 7 h: ¥70, 70 %
    assert check(at(2, 16), capture) == 1  # 8 h: ¥80
    assert check(at(2, 17), capture) == 0  # 90 %: nothing new
    assert check(at(2, 18), capture) == 1  # 10 h: ¥100
    assert check(at(2, 23), capture) == 0  # still over: told already

    sent = list(Notification.objects.filter(kind=Notification.Kind.BUDGET).order_by("id"))
    assert [n.key for n in sent] == [
        f"budget:{budget.pk}:2026-11:80",
        f"budget:{budget.pk}:2026-11:100",
    ]
    assert sent[0].subject == "Budget of cleo at 80%: ¥80.00 of ¥100.00"
    assert sent[1].subject == "Budget of cleo used up: ¥100.00 of ¥100.00"
    assert set(sent[1].recipients) == {"cleo", "ada"}
    assert "wait for another admin's approval" in sent[1].body
    assert {tuple(m.to) for m in mailoutbox} == {("ada@example.test", "cleo@example.test")}

    # A new month starts from nothing: December's 80 % is told again.
    HostStatusChange.objects.create(host=render_box, status=HostStatus.RUNNING, at=at(30, 23))
    december = datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)  # 9 h of December: ¥90
    assert check(december, capture) == 1
    assert Notification.objects.filter(key=f"budget:{budget.pk}:2026-12:80").exists()


def test_a_budgets_figures_spent_committed_projected(cleo, render_box, make_host):
    rental = make_host(name="rent-01", billing_type=BillingType.RENTAL.value, owner=cleo,
                       owner_name="cleo")  # fmt: skip
    Operation.objects.create(
        kind="create_rental", state="succeeded", host=rental, requested_by=cleo,
        requested_by_name="cleo", params={"total_price": "50.00", "hourly_price": "1.00"},
        finished_at=at(3, 9),
    )  # fmt: skip
    budget = Budget.objects.create(member=cleo, monthly_amount=Decimal("1000.00"))

    status = budget_status(budget, now=at(3, 10))  # running since the 2nd at 08:00: 26 h
    assert status.spent.high == Decimal("260.00")
    assert status.committed.high == Decimal("50.00")
    assert status.used.high == Decimal("310.00") and status.percent == 31
    # Until the end of November (27 days 14 h = 662 h) at ¥10.00 / h for the running box; the
    # rental is prepaid and burns nothing more.
    assert status.burn.hourly.high == Decimal("10.00")
    assert status.projected.high == Decimal("310.00") + Decimal("6620.00")
    assert {line.name for line in status.lines} == {"render-01", "rent-01"}


def test_a_label_budget_counts_the_hosts_with_the_label(cleo, render_box, make_host, client,
                                                        make_member):  # fmt: skip
    project = Label.objects.create(name="project-x")
    render_box.labels.add(project)
    other = make_host(name="other", owner=cleo, owner_name="cleo")
    HostStatusChange.objects.create(host=other, status=HostStatus.RUNNING, at=at(1, 0))
    budget = Budget.objects.create(label=project, monthly_amount=Decimal("500.00"))

    status = budget_status(budget, now=at(2, 10))
    assert [line.name for line in status.lines] == ["render-01"]
    assert status.used.high == Decimal("20.00")

    client.force_login(make_member("vic", "Viewer"))
    listing = client.get("/budgets/").content.decode()
    assert "Label project-x" in listing and "¥500.00" in listing
    page = client.get(f"/budgets/{budget.pk}/").content.decode()
    assert "render-01" in page and "other" not in page
    assert "Committed (rentals bought)" in page and "Projected at the current burn" in page
    assert client.get("/budgets/999/").status_code == 404


def test_over_budget_a_members_create_waits_for_approval(
    client, cleo, ada, render_box, catalog_cached, django_capture_on_commit_callbacks, dispatched
):
    Budget.objects.create(member=cleo, monthly_amount=Decimal("1.00"))  # long used up
    client.force_login(cleo)
    review = client.post("/hosts/new/", {**PAYG, "idempotency_key": CREATE_KEY}).content.decode()
    assert "of your monthly budget of ¥1.00" in review and "Confirm and ask for approval" in review
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/hosts/new/", payg_confirmed(), follow=True).content.decode()
    assert "You are over your monthly budget" in done
    operation = Operation.objects.filter(kind="create_payg", requested_by=cleo).latest("id")
    assert operation.state == Operation.State.AWAITING and dispatched == []
    told = Notification.objects.get(kind=Notification.Kind.APPROVAL_NEEDED)
    assert "cleo is over their monthly budget" in told.body and told.recipients == ["ada"]


def test_under_budget_a_create_goes_ahead(
    client, cleo, catalog_cached, django_capture_on_commit_callbacks, dispatched
):
    Budget.objects.create(member=cleo, monthly_amount=Decimal("10000.00"))
    client.force_login(cleo)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/hosts/new/", payg_confirmed())
    assert Operation.objects.get().state == Operation.State.QUEUED and len(dispatched) == 1


def test_an_admin_sets_budgets_audited_but_not_their_own(client, ada, cleo, make_member):
    client.force_login(ada)
    response = client.post(
        "/admin/dashboard/budget/add/",
        {"member": cleo.pk, "monthly_amount": "300.00", "note": "render work"},
    )
    assert response.status_code == 302
    budget = Budget.objects.get(member=cleo)
    event = AuditEvent.objects.get(action=AuditEvent.Action.BUDGET_CHANGED)
    assert event.actor_name == "ada" and "¥300.00 a month, set" in event.summary

    own = Budget.objects.create(member=ada, monthly_amount=Decimal("10.00"))
    response = client.post(
        f"/admin/dashboard/budget/{own.pk}/change/", {"member": ada.pk, "monthly_amount": "1e6"}
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.monthly_amount == Decimal("10.00")

    # Neither a member's and a label's at once, nor a negative amount.
    both = client.post(
        "/admin/dashboard/budget/add/",
        {"member": make_member("bo", "Creator").pk, "label": Label.objects.create(name="x").pk,
         "monthly_amount": "5"},
    )  # fmt: skip
    assert both.status_code == 200 and Budget.objects.count() == 2
    negative = client.post(
        f"/admin/dashboard/budget/{budget.pk}/change/",
        {"member": cleo.pk, "monthly_amount": "-5"},
    )
    assert negative.status_code == 200
    budget.refresh_from_db()
    assert budget.monthly_amount == Decimal("300.00")

    client.force_login(cleo)
    assert client.get("/admin/dashboard/budget/add/").status_code in (302, 403)


@pytest.mark.parametrize("count", [2, 20])
def test_the_budgets_page_costs_a_fixed_number_of_queries(
    client, make_member, make_host, count, django_assert_max_num_queries
):
    for n in range(count):
        owner = make_member(f"m{n}", "Creator")
        make_host(owner=owner, owner_name=owner.username)
        Budget.objects.create(member=owner, monthly_amount=Decimal("100.00"))
    client.force_login(make_member("vic", "Viewer"))
    with django_assert_max_num_queries(25):
        assert client.get("/budgets/").status_code == 200
