"""Ids, names and every other string from the provider are data: a host whose id holds a slash,
a percent sign, markup or quotes is listed, linked, shown, acted on and exported like any other,
and never makes a page fail for everyone.

The hosts come from the simulator over real HTTP (a sync), so the client's quoting of ids in the
provider's paths is exercised too."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from dashboard import services
from dashboard.models import Host, HostStatusChange, Operation
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

# What a careless provider, or a hostile one, could send as host ids.
HOSTILE_IDS = [
    "../../etc/passwd",
    "a/b",
    "%2F",
    "100%",
    "<script>alert(1)</script>",
    'it\'s"quoted"',
    "渲染节点/一号",
    "?#&=",
    "..",
    ".",
    "new",  # ... and the pages under /hosts/ that are not a host's
    "live",
    "bulk",
    "x" * 64,
]
# ... and as names: empty, padded with spaces, very long, markup, a path.
HOSTILE_NAMES = ["", "  spaced   out  ", "n" * 300, "<b>bold</b>", "../../etc/passwd?#"]


class Links(HTMLParser):
    """The links and forms of a page, each with the id of the table row it is in."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.anchors: list[dict] = []
        self.forms: list[dict] = []
        self._row = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs, row=self._row)
        if tag == "tr":
            self._row = attrs.get("id")
        elif tag == "a" and attrs.get("href"):
            self.anchors.append(attrs)
        elif tag == "form" and attrs.get("action"):
            self.forms.append(attrs)

    def hrefs(self, css_class: str | None = None) -> list[str]:
        return [
            a["href"]
            for a in self.anchors
            if css_class is None or css_class in (a.get("class") or "").split()
        ]

    def actions(self) -> list[str]:
        return [form["action"] for form in self.forms]


def path_of(url: str) -> str:
    """What a browser asks for when it follows `url` (the test client decodes it like WSGI)."""
    return urlsplit(url).path


@pytest.fixture
def hostile_fleet(sim, make_member):
    """The hostile ids (half of them Windows hosts, for the .rdp file) and the hostile names, in
    the simulator and mirrored by a sync; each has been running for an hour."""
    admin = make_member("boss", "Admin")
    for index, host_id in enumerate(HOSTILE_IDS):
        sim.fleet.add_host(
            id=host_id,
            name=HOSTILE_NAMES[index % len(HOSTILE_NAMES)],
            status=HostStatus.RUNNING,
            image_id="8989" if index % 2 else None,
            package_id="Pi8tcH1NSd",  # a BZ template: image 8989 (Windows) fits it
        )
    result = services.hosts_sync()
    assert result.ok, result.error
    assert set(Host.objects.values_list("id", flat=True)) == set(HOSTILE_IDS)
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    HostStatusChange.objects.update(at=max(timezone.now() - timedelta(hours=1), month_start))
    return admin


@pytest.fixture
def boss_client(client, hostile_fleet):
    client.force_login(hostile_fleet)
    return client


def host_links(client) -> dict[str, str]:
    """Each host's link on /hosts/, by the id of its row (`host-<id>`)."""
    page = client.get("/hosts/")
    assert page.status_code == 200
    anchors = Links(page.content.decode()).anchors
    return {
        a["row"].removeprefix("host-"): a["href"] for a in anchors if a.get("class") == "host-name"
    }


def test_the_list_links_to_each_hosts_own_page(boss_client):
    links = host_links(boss_client)
    assert set(links) == set(HOSTILE_IDS)
    for host_id, href in links.items():
        page = boss_client.get(path_of(href))
        assert page.status_code == 200, href
        assert page.context["host"].id == host_id


def test_a_hostile_host_page_shows_its_id_and_name_as_text(boss_client):
    links = host_links(boss_client)
    html = boss_client.get(path_of(links["<script>alert(1)</script>"])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = boss_client.get("/hosts/").content.decode()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


# The walk below costs a second or two per host: a few ids, each breaking a different naive scheme.
WALKED_IDS = ["../../etc/passwd", "%2F", "?#&=", "渲染节点/一号", "..", "new"]


@pytest.mark.parametrize("host_id", WALKED_IDS)
def test_every_link_and_form_on_a_hostile_hosts_page_reaches_that_host(boss_client, host_id):
    host_href = host_links(boss_client)[host_id]
    links = Links(boss_client.get(path_of(host_href)).content.decode())
    forms = {re.sub(r".*/", "", url.rstrip("/")): url for url in links.actions()}
    assert {"power-off", "reboot", "owner", "notes", "schedules", "password"} <= set(forms)
    # Its sub-pages (delete, .rdp) and its forms reach the view of this host: GET on a form's
    # address is refused (405) by that view, not answered 404 by another.
    own = [url for url in links.actions() + links.hrefs() if path_of(url).startswith(host_href)]
    assert len(own) >= 7
    for url in own:
        answer = boss_client.get(path_of(url))
        assert answer.status_code in (200, 405), url
        if answer.status_code == 200 and answer.context and "host" in answer.context:
            assert answer.context["host"].id == host_id, url

    answer = boss_client.post(path_of(forms["power-off"]), {"idempotency_key": str(uuid.uuid4())})
    assert answer.status_code == 302
    operation = Operation.objects.get(kind=Operation.Kind.POWER_OFF)
    assert operation.host_id == host_id
    back = boss_client.get(path_of(answer["Location"]))
    assert back.status_code == 200 and back.context["host"].id == host_id
    answer = boss_client.post(path_of(forms["notes"]), {"labels": "gpu", "note": "hi"})
    assert answer.status_code == 302 and path_of(answer["Location"]) == host_href
    answer = boss_client.post(path_of(forms["owner"]), {"owner": "boss"})
    assert answer.status_code == 302 and path_of(answer["Location"]) == host_href
    answer = boss_client.post(
        path_of(forms["schedules"]), {"action": "power_off", "at": "23:00", "weekdays": ["1"]}
    )
    assert answer.status_code == 302 and path_of(answer["Location"]) == host_href
    host = Host.objects.get(id=host_id)
    assert (host.note, host.owner_name, host.schedules.count()) == ("hi", "boss", 1)

    # "All of this host's operations" finds its operation.
    (of_host,) = [url for url in links.hrefs() if url.startswith("/operations/?host=")]
    listed = boss_client.get(of_host)
    assert [op.pk for op in listed.context["page"].object_list] == [operation.pk]
    # The operation's page and the schedules' pages link back to the same host page.
    for page in ("/operations/", f"/operations/{operation.pk}/", "/schedules/"):
        answer = boss_client.get(page)
        assert answer.status_code == 200, page
        hrefs = [path_of(h) for h in Links(answer.content.decode()).hrefs() if "/hosts/" in h]
        assert host_href in hrefs, page


def test_spend_links_to_the_same_host_pages_as_the_list(boss_client):
    listed = set(host_links(boss_client).values())
    answer = boss_client.get("/spend/")
    assert answer.status_code == 200
    spend = {
        href
        for href in Links(answer.content.decode()).hrefs()
        if href.startswith("/hosts/") and href != "/hosts/"
    }
    assert spend == listed


def test_the_password_is_fetched_for_the_right_host(boss_client, sim):
    host_id = "a/b"
    action = f"{path_of(host_links(boss_client)[host_id])}password/"
    answer = boss_client.post(action)
    assert answer.status_code == 200
    assert sim.fleet.hosts[host_id].host_pw in answer.content.decode()


def test_the_spend_csv_holds_hostile_ids_as_text(boss_client):
    answer = boss_client.get("/spend.csv")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert {row["host_id"] for row in rows} == set(HOSTILE_IDS)


def test_the_rdp_file_of_a_hostile_host_has_a_plain_file_name(boss_client):
    for host_id, link in host_links(boss_client).items():
        host = Host.objects.get(id=host_id)
        if not host.is_windows:
            continue
        answer = boss_client.get(f"{path_of(link)}connect.rdp")
        assert answer.status_code == 200, host_id
        disposition = answer["Content-Disposition"]
        name = re.fullmatch(r'attachment; filename="([A-Za-z0-9._-]+\.rdp)"', disposition)
        assert name, disposition


@pytest.mark.parametrize("host_id", ["a,b:1", "%2C", "a:", "x/y,"])
def test_the_list_poll_follows_a_changing_host_whatever_its_id(member_client, make_host, host_id):
    make_host(id=host_id, status=HostStatus.BOOTING)
    page = member_client.get("/hosts/").content.decode()
    poll = re.search(r'id="host-poller"[^>]* hx-get="([^"]+)"', page)
    assert poll, "a booting host makes the page poll"
    Host.objects.filter(id=host_id).update(status=HostStatus.RUNNING, version=2)

    answer = member_client.get(unescape(poll[1]), headers={"HX-Request": "true"})

    assert answer.status_code == 200  # the row moved: it comes back (the page keeps polling slowly)
    rows = [a["row"] for a in Links(answer.content.decode()).anchors if a["row"]]
    assert f"host-{host_id}" in rows


def test_an_alert_about_a_host_named_with_line_breaks_is_still_mailed(
    make_host, make_member, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core import mail

    from dashboard import tasks

    monkeypatch.setattr(tasks.deliver_notification, "delay", services.notification_deliver)
    owner = make_member("cleo", "Creator")
    make_host(name="evil\r\nBcc: victim@example.test", status=HostStatus.EXPIRED, owner=owner)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_check() == 1

    (message,) = mail.outbox
    assert message.subject == "[Xuandashi] evil Bcc: victim@example.test has expired"
    assert message.to == ["cleo@example.test"]
