"""Scripted setup of a chat channel, checked by the admin page's own form."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.forms.alerts import AlertChannelForm
from dashboard.models import AlertChannel, Notification


class Command(BaseCommand):
    help = (
        "Add a chat channel for alerts (or change one with --update). The signing secret is read "
        "from a file (--secret-file, '-' for standard input), never from the command line."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The channel's name (letters, digits, - and _).")
        parser.add_argument(
            "--kind", required=True, choices=AlertChannel.Kind.values, help="The platform."
        )
        parser.add_argument("--url", required=True, help="The robot's or webhook's URL.")
        parser.add_argument(
            "--secret-file",
            help="A file holding the signing secret (DingTalk, Feishu); '-' reads standard input.",
        )
        parser.add_argument(
            "--kinds",
            default=",".join(Notification.Kind.values),
            help="Comma-separated alert kinds it takes (default: all): "
            + ", ".join(Notification.Kind.values),
        )
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
        )
        parser.add_argument("--disabled", action="store_true", help="Add it switched off.")
        parser.add_argument(
            "--update", action="store_true", help="Change the channel of that name if it exists."
        )

    def handle(self, *args, **options):
        instance = AlertChannel.objects.filter(name=options["name"]).first()
        if instance is not None and not options["update"]:
            raise CommandError(
                f"A channel named {options['name']!r} exists already (--update changes it)."
            )
        data = {
            "name": options["name"],
            "kind": options["kind"],
            "url": options["url"],
            "secret": self._secret(options["secret_file"]),
            "alert_kinds": [kind.strip() for kind in options["kinds"].split(",") if kind.strip()],
            "language": options["language"],
            "enabled": not options["disabled"],
        }
        form = AlertChannelForm(data, instance=instance)
        if not form.is_valid():
            problems = "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()
            )
            raise CommandError(f"The channel was not saved: {problems}")
        channel = form.save()
        verb = "changed" if instance is not None else "added"
        self.stdout.write(f"{verb} the {channel.get_kind_display()} channel {channel.name}")

    @staticmethod
    def _secret(path: str | None) -> str:
        if not path:
            return ""
        try:
            if path == "-":
                return sys.stdin.read().strip()
            with open(path, encoding="utf-8") as fh:
                return fh.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or type(exc).__name__
            raise CommandError(f"The secret file {path!r} cannot be read: {why}") from None
