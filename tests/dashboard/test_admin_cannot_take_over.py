"""An Admin (the role, not a superuser) attacking the team through the real admin pages: they
cannot become someone else, raise themselves, touch a superuser or another admin, hand out
powers the roles do not give, or beat the two-person rule by raising the approval limit alone;
a superuser still can do every one of these. And what changes who someone is or what they may
do reaches the audit trail, with the names frozen."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from dashboard.models import AuditEvent, Notification, Operation, TeamPolicy
from dashboard.permissions import holds_password_of
from tests.conftest import MEMBER_PASSWORD
from tests.dashboard.conftest import payg_confirmed

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "taken-over-Zq81-password"


@pytest.fixture
def root(make_member):
    return make_member("root", is_superuser=True, is_staff=True)


@pytest.fixture
def abe(make_member):
    return make_member("abe", "Admin")


@pytest.fixture
def vic(make_member):
    return make_member("vic", "Viewer")


@pytest.fixture
def as_ada(client, ada):
    """The attacker, ada (an Admin-role member, neither staff nor superuser), signed in."""
    client.force_login(ada)
    return client


def role(name: str) -> Group:
    return Group.objects.get(name=name)


def change_form(user, **overrides) -> dict:
    """What the admin's user change page posts for `user`, with `overrides`."""
    user.refresh_from_db()
    joined = timezone.localtime(user.date_joined)
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "groups": list(user.groups.values_list("pk", flat=True)),
        "user_permissions": list(user.user_permissions.values_list("pk", flat=True)),
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "_save": "Save",
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            form[flag] = "on"
    for key, value in overrides.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def set_password(client, user, password=NEW_PASSWORD):
    return client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": password, "password2": password, "set_usable_password": "true"},
    )


def signs_in(client, username: str, password: str) -> bool:
    client.logout()
    client.post("/accounts/login/", {"username": username, "password": password})
    return "_auth_user_id" in client.session


def flags(user) -> tuple:
    user.refresh_from_db()
    return (user.is_active, user.is_staff, user.is_superuser)


def roles_of(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


REVEAL = ("dashboard", "reveal_any_password")


def reveal_permission() -> Permission:
    return Permission.objects.get(content_type__app_label=REVEAL[0], codename=REVEAL[1])


def audited(action: str, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("id"))


# --- Passwords ------------------------------------------------------------------------------------


def test_an_admin_cannot_set_the_superusers_password_and_sign_in_as_them(as_ada, root):
    assert as_ada.get(f"/admin/auth/user/{root.pk}/password/").status_code == 403
    assert set_password(as_ada, root).status_code == 403

    root.refresh_from_db()
    assert root.check_password(MEMBER_PASSWORD)
    assert not signs_in(as_ada, "root", NEW_PASSWORD)


def test_an_admin_cannot_set_another_admins_password(as_ada, abe):
    assert set_password(as_ada, abe).status_code == 403
    abe.refresh_from_db()
    assert abe.check_password(MEMBER_PASSWORD)
    assert not signs_in(as_ada, "abe", NEW_PASSWORD)


def test_a_password_an_admin_sets_for_a_member_is_audited_without_the_password(as_ada, vic):
    assert set_password(as_ada, vic).status_code == 302
    assert signs_in(as_ada, "vic", NEW_PASSWORD)  # allowed: there is no e-mail reset

    (event,) = audited("password_set")
    assert event.actor_name == "ada" and event.details["member"] == "vic"
    assert event.summary == "Password of vic set by ada"
    assert NEW_PASSWORD not in event.summary + str(event.details)


def test_a_superuser_may_set_anyones_password(client, root, ada):
    client.force_login(root)
    assert set_password(client, ada).status_code == 302
    assert signs_in(client, "ada", NEW_PASSWORD)
    assert audited("password_set", actor=root)[0].details["member"] == "ada"


# --- Flags, roles and direct permissions ----------------------------------------------------------


def test_an_admin_cannot_change_another_admin(as_ada, abe):
    response = as_ada.post(
        f"/admin/auth/user/{abe.pk}/change/", change_form(abe, is_active=None, groups=[])
    )
    assert response.status_code == 403
    assert flags(abe) == (True, False, False) and roles_of(abe) == {"Admin"}


def test_an_admin_cannot_change_the_superuser(as_ada, root):
    response = as_ada.post(
        f"/admin/auth/user/{root.pk}/change/",
        change_form(root, is_superuser=None, is_active=None),
    )
    assert response.status_code == 403
    assert flags(root) == (True, True, True)


def test_an_admin_cannot_raise_themselves(as_ada, ada):
    everything = list(Group.objects.values_list("pk", flat=True))
    as_ada.post(
        f"/admin/auth/user/{ada.pk}/change/",
        change_form(
            ada,
            is_staff="on",
            is_superuser="on",
            groups=everything,
            user_permissions=list(Permission.objects.values_list("pk", flat=True)),
        ),
    )
    assert flags(ada) == (True, False, False)
    assert roles_of(ada) == {"Admin"}
    assert not ada.user_permissions.exists()


def test_an_admin_cannot_make_a_member_staff_superuser_or_another_admin(as_ada, vic):
    """Making a second admin out of an account one controls would beat the two-person rule."""
    as_ada.post(
        f"/admin/auth/user/{vic.pk}/change/",
        change_form(vic, is_staff="on", is_superuser="on", groups=[role("Admin").pk]),
    )
    assert flags(vic) == (True, False, False)
    assert "Admin" not in roles_of(vic)


def test_an_admin_gives_a_member_the_other_roles(as_ada, vic):
    response = as_ada.post(
        f"/admin/auth/user/{vic.pk}/change/",
        change_form(vic, groups=[role("Viewer").pk, role("Operator").pk]),
    )
    assert response.status_code == 302
    assert roles_of(vic) == {"Viewer", "Operator"}


def test_an_admin_cannot_grant_direct_permissions(as_ada, vic):
    page = as_ada.get(f"/admin/auth/user/{vic.pk}/change/").content.decode()
    assert 'name="user_permissions"' not in page

    as_ada.post(
        f"/admin/auth/user/{vic.pk}/change/",
        change_form(vic, user_permissions=[reveal_permission().pk]),
    )
    vic = User.objects.get(pk=vic.pk)
    assert not vic.user_permissions.exists()
    assert not vic.has_perm("dashboard.reveal_any_password")


def test_a_superuser_may_still_do_all_of_it(client, root, abe, vic):
    client.force_login(root)
    response = client.post(
        f"/admin/auth/user/{vic.pk}/change/",
        change_form(
            vic, is_staff="on", groups=[role("Admin").pk], user_permissions=[reveal_permission().pk]
        ),
    )
    assert response.status_code == 302
    assert flags(vic) == (True, True, False) and roles_of(vic) == {"Admin"}
    assert vic.user_permissions.filter(codename="reveal_any_password").exists()

    response = client.post(
        f"/admin/auth/user/{abe.pk}/change/", change_form(abe, is_active=None, groups=[])
    )
    assert response.status_code == 302
    assert flags(abe) == (False, False, False) and roles_of(abe) == set()


# --- Accounts created and deleted -----------------------------------------------------------------


def delete(client, user):
    return client.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})


def delete_selected(client, *users):
    return client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [u.pk for u in users], "post": "yes"},
    )


def test_an_admin_cannot_delete_the_superuser_or_another_admin(as_ada, root, abe):
    assert delete(as_ada, root).status_code == 403
    assert delete(as_ada, abe).status_code == 403
    delete_selected(as_ada, root, abe)
    assert User.objects.filter(username__in=["root", "abe"]).count() == 2
    assert not audited("member_deleted")


def test_deleting_a_member_is_audited_with_the_name_kept(as_ada, vic):
    vic_pk = vic.pk
    assert delete(as_ada, vic).status_code == 302
    assert not User.objects.filter(pk=vic_pk).exists()

    (event,) = audited("member_deleted")
    assert event.actor_name == "ada" and event.details == {"member": "vic", "member_id": vic_pk}
    assert event.summary == "Account vic deleted"
    page = as_ada.get("/admin/dashboard/auditevent/?action__exact=member_deleted").content
    assert "Account vic deleted" in page.decode()


def test_a_superuser_may_delete_an_admin(client, root, abe):
    client.force_login(root)
    assert delete(client, abe).status_code == 302
    assert not User.objects.filter(username="abe").exists()
    assert audited("member_deleted", actor=root)[0].details["member"] == "abe"


def test_creating_an_account_is_audited(as_ada, ada):
    response = as_ada.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    (event,) = audited("member_created", actor=ada)
    assert event.actor_name == "ada"
    assert event.details == {"member": "newbie", "member_id": newbie.pk}
    assert not audited("password_set")  # creating it is the one event


# --- Permissions given outside the roles ----------------------------------------------------------


def test_direct_permissions_given_and_taken_are_audited(client, root, vic):
    client.force_login(root)
    client.post(
        f"/admin/auth/user/{vic.pk}/change/",
        change_form(vic, user_permissions=[reveal_permission().pk]),
    )
    (given,) = audited("permissions_changed")
    assert given.actor == root
    assert given.details == {
        "member": "vic",
        "change": "added",
        "permissions": ["dashboard.reveal_any_password"],
    }

    vic.user_permissions.clear()  # from the shell too
    assert audited("permissions_changed")[-1].details["change"] == "removed"


def test_a_roles_permissions_changed_are_audited(client, root):
    operator = role("Operator")
    client.force_login(root)
    kept = list(operator.permissions.values_list("pk", flat=True))
    response = client.post(
        f"/admin/auth/group/{operator.pk}/change/",
        {"name": "Operator", "permissions": [*kept, reveal_permission().pk], "_save": "Save"},
    )
    assert response.status_code == 302
    (event,) = audited("role_permissions_changed")
    assert event.actor == root
    assert event.details == {
        "role": "Operator",
        "change": "added",
        "permissions": ["dashboard.reveal_any_password"],
    }
    assert event.summary == "Role Operator given dashboard.reveal_any_password"


# --- The approval limit ---------------------------------------------------------------------------


def set_limit(client, amount):
    policy = TeamPolicy.current()
    return client.post(
        f"/admin/dashboard/teampolicy/{policy.pk}/change/",
        {"approval_threshold": "" if amount is None else amount, "_save": "Save"},
        follow=True,
    )


def limit_in_force():
    return TeamPolicy.current().approval_threshold


@pytest.fixture
def limit_4():
    policy = TeamPolicy.current()
    policy.approval_threshold = Decimal("4.00")
    policy.save()


def buy(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/hosts/new/", payg_confirmed())
    return Operation.objects.get()


@pytest.mark.parametrize("raised", ["100", None], ids=["raised", "turned-off"])
def test_raising_the_limit_waits_for_a_second_admin(
    client, ada, abe, limit_4, raised, catalog_cached, dispatched,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    client.force_login(ada)
    page = set_limit(client, raised).content.decode()
    assert "waits for another admin" in page
    assert limit_in_force() == Decimal("4.00")
    told = Notification.objects.get(key__startswith="policy:")
    assert told.recipients == ["abe"] and "ada proposes the approval limit" in told.subject

    # Buying alone above the old limit still waits for another admin.
    assert buy(client, django_capture_on_commit_callbacks).state == "awaiting"
    assert dispatched == []
    # Nor may the one who proposed it confirm it.
    policy = TeamPolicy.current()
    assert client.post(f"/admin/dashboard/teampolicy/{policy.pk}/confirm/").status_code == 403
    assert limit_in_force() == Decimal("4.00")

    client.force_login(abe)
    page = client.get(f"/admin/dashboard/teampolicy/{policy.pk}/change/").content.decode()
    proposal = "no limit at all" if raised is None else "the limit ¥100.00"
    assert f"ada proposed {proposal} (in force: ¥4.00)" in page
    client.post(f"/admin/dashboard/teampolicy/{policy.pk}/confirm/")
    assert limit_in_force() == (None if raised is None else Decimal(raised))

    proposed, changed = audited("policy_proposed"), audited("policy_changed")
    assert [e.actor_name for e in proposed] == ["ada"]
    assert [e.actor_name for e in changed] == ["abe"]
    assert changed[0].details["proposed_by"] == "ada"


def test_lowering_or_setting_the_limit_takes_effect_at_once(client, ada, limit_4):
    client.force_login(ada)
    set_limit(client, "2.50")
    assert limit_in_force() == Decimal("2.50")
    assert audited("policy_changed")[0].actor_name == "ada"


def test_a_stricter_limit_discards_a_raise_waiting(client, ada, abe, limit_4):
    client.force_login(ada)
    set_limit(client, "100")
    client.force_login(abe)
    set_limit(client, "3")
    assert limit_in_force() == Decimal("3")
    policy = TeamPolicy.current()
    assert policy.proposed_at is None
    client.post(f"/admin/dashboard/teampolicy/{policy.pk}/confirm/")
    assert limit_in_force() == Decimal("3")


def test_a_superusers_raise_takes_effect_at_once(client, root, limit_4):
    client.force_login(root)
    set_limit(client, "100")
    assert limit_in_force() == Decimal("100")


def test_the_policy_page_warns_when_one_admin_alone_cannot_be_approved(client, ada, make_member):
    client.force_login(ada)
    url = f"/admin/dashboard/teampolicy/{TeamPolicy.current().pk}/change/"
    page = client.get(url).content.decode()
    assert "Only ada may approve purchases" in page
    assert "give a second member the Admin role" in page

    make_member("abe", "Admin")
    assert "may approve purchases" not in client.get(url).content.decode()


# --- Members without the admin's pages ------------------------------------------------------------


@pytest.mark.parametrize(
    "roles", [("Viewer",), ("Operator",), ()], ids=["viewer", "operator", "no-role"]
)
def test_the_admin_pages_refuse_other_members_with_a_page_that_says_why(client, make_member, roles):
    client.force_login(make_member("pat", *roles))
    for url in ("/admin/", "/admin/auth/user/", "/admin/login/?next=/admin/"):
        response = client.get(url, follow=True)
        assert len(response.redirect_chain) <= 2, response.redirect_chain
        assert response.status_code == 403, url
        page = response.content.decode()
        assert "Only members with the Admin role" in page
        assert "manage members" in page


# --- Becoming a member to buy in their name ----------------------------------------------------


def test_an_admin_who_set_a_members_password_cannot_approve_what_they_buy(
    client, ada, abe, make_member, limit_4, catalog_cached, dispatched,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    cleo = make_member("cleo", "Creator")
    client.force_login(ada)
    assert set_password(client, cleo).status_code == 302
    assert signs_in(client, "cleo", NEW_PASSWORD)
    operation = buy(client, django_capture_on_commit_callbacks)
    assert operation.state == "awaiting"

    client.force_login(ada)
    assert "Approve" not in client.get(f"/operations/{operation.pk}/").content.decode()
    refused = client.post(f"/operations/{operation.pk}/approve/")
    assert refused.status_code == 403
    assert "You set the password of the member who asked" in refused.content.decode()
    operation.refresh_from_db()
    assert operation.state == "awaiting" and dispatched == []

    # Once cleo has chosen her own password, or for another admin, it is an ordinary approval.
    client.force_login(abe)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/operations/{operation.pk}/approve/")
    operation.refresh_from_db()
    assert operation.state == "queued"


def test_a_password_the_member_changed_since_is_theirs_again(client, ada, make_member):
    cleo = make_member("cleo", "Creator")
    client.force_login(ada)
    set_password(client, cleo)
    assert holds_password_of(ada, cleo.pk)
    cleo.refresh_from_db()  # the session remembers the password in force
    client.force_login(cleo)
    changed = client.post(
        "/accounts/password/",
        {
            "old_password": NEW_PASSWORD,
            "new_password1": "marble-tundra-8841-quay",
            "new_password2": "marble-tundra-8841-quay",
        },
    )
    assert changed.status_code == 302 and changed["Location"] == "/accounts/password/done/"
    assert audited("password_set")[-1].details["by_self"] is True
    assert not holds_password_of(ada, cleo.pk)
