"""What the data migrations that hand permissions to a role share, written once.

The migration loader skips modules whose name starts with an underscore, so this one is no
migration itself. Like a migration it only ever sees the historical models it is given (`apps`),
and migrations already applied call it: change it only in ways each of them still wants.
"""


def create_permissions_now(apps) -> None:
    """Django creates permissions after all migrations ran; a role given them must have them now."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def grant(role: str, codenames: tuple[str, ...]):
    """A RunPython step that gives the group `role` these permissions of the dashboard."""

    def forwards(apps, schema_editor):
        create_permissions_now(apps)
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        permissions = Permission.objects.filter(
            content_type__app_label="dashboard", codename__in=codenames
        )
        for group in Group.objects.filter(name=role):
            group.permissions.add(*permissions)

    return forwards
