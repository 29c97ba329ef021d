"""The owner form on a host's page: a name nobody has is refused beside the form, as text."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_owner_name_is_refused_and_shown_as_text(client, make_member, make_host):
    host = make_host(owner_name="")
    client.force_login(make_member("ada", "Admin"))

    answer = client.post(f"/hosts/{host.id}/owner/", {"owner": "<script>alert(1)</script>"})

    assert answer.status_code == 400
    html = answer.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "No active member is called &lt;script&gt;alert(1)&lt;/script&gt;." in html
    assert 'class="owner-form"' in html  # the form is there to try again
    host.refresh_from_db()
    assert host.owner_id is None
