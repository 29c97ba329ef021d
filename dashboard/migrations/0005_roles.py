"""The four roles, as groups of permissions. An admin gives a member a role by adding them to
one or more of these groups (Django admin, Users). The sets are frozen here as they were when
this migration was written; a later change to a role is a new migration.

- Viewer sees every page but host passwords.
- Operator powers on, powers off and reboots any host.
- Creator buys hosts, and powers, reboots, deletes and sees the password of the hosts they own.
- Admin may do all of that on any host, assign owners, read the audit trail and manage users.
"""

from django.db import migrations

from dashboard.migrations._permissions import create_permissions_now

VIEW = [
    ("dashboard", "view_host"),
    ("dashboard", "view_operation"),
    ("dashboard", "view_operationevent"),
    ("dashboard", "view_syncstate"),
]
ROLES = {
    "Viewer": VIEW,
    "Operator": [*VIEW, ("dashboard", "power_any_host")],
    "Creator": [*VIEW, ("dashboard", "create_host"), ("dashboard", "manage_own_host")],
    "Admin": [
        *VIEW,
        ("dashboard", "power_any_host"),
        ("dashboard", "create_host"),
        ("dashboard", "manage_own_host"),
        ("dashboard", "delete_any_host"),
        ("dashboard", "reveal_any_password"),
        ("dashboard", "assign_owner"),
        ("dashboard", "cancel_any_operation"),
        ("dashboard", "view_auditevent"),
        ("auth", "view_user"),
        ("auth", "add_user"),
        ("auth", "change_user"),
        ("auth", "delete_user"),
        ("auth", "view_group"),
        # Unlocking a member locked out by failed sign-ins is deleting their access attempt.
        ("axes", "view_accessattempt"),
        ("axes", "delete_accessattempt"),
        ("axes", "view_accesslog"),
        ("axes", "view_accessfailurelog"),
    ],
}


def create_roles(apps, schema_editor):
    create_permissions_now(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in codenames
        ]
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0004_audit_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
