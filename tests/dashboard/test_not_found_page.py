"""A page that does not exist answers inside the layout, in the member's language, saying what
was not found and where to go; for a host the mirror does not have but operations name, a link
to those operations. As members see it: with DEBUG off."""

from __future__ import annotations

import pytest

from dashboard.models import Operation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_debug(settings):
    settings.DEBUG = False


def test_an_unknown_host_says_so_inside_the_layout(member_client):
    response = member_client.get("/hosts/NOSUCHHOST/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'class="mainnav"' in page  # the layout, with the navigation
    assert "The dashboard has no host <code>NOSUCHHOST</code>." in page
    assert "No operation names this id either" in page
    assert 'href="/hosts/"' in page


def test_a_deleted_host_links_to_its_operations(member_client, member):
    Operation.objects.create(
        kind="delete", state="succeeded", host_id="gone-7", host_name="render-07",
        requested_by=member, requested_by_name=member.username,
    )  # fmt: skip
    page = member_client.get("/hosts/gone-7/").content.decode()
    assert "It was render-07: deleted, or no longer listed by Xuandashi." in page
    assert 'href="/operations/?host=gone-7"' in page


def test_the_page_speaks_chinese_to_a_chinese_browser(member_client):
    zh = {"Accept-Language": "zh-hans"}
    response = member_client.get("/hosts/NOSUCHHOST/", headers=zh)
    assert response.status_code == 404
    page = response.content.decode()
    assert "未找到" in page and "NOSUCHHOST" in page
    assert "Not found" not in page and "The dashboard has no host" not in page
    other = member_client.get("/no/such/page/", headers=zh).content.decode()
    assert "/no/such/page/" in other and "There is no page" not in other


def test_any_unknown_address_gets_the_page(member_client):
    response = member_client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'class="mainnav"' in page
    assert "There is no page at <code>/no/such/page/</code>." in page


def test_a_missing_operation_says_which(member_client):
    page = member_client.get("/operations/999999/").content.decode()
    assert "No operation with this number." in page


def test_someone_signed_out_learns_nothing_of_a_host(client):
    Operation.objects.create(
        kind="delete", state="succeeded", host_id="gone-7", host_name="render-07",
        requested_by_name="ada",
    )  # fmt: skip
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    # A host's address asks for a sign-in first, and so tells nothing.
    assert client.get("/hosts/gone-7/").status_code == 302
