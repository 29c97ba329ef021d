"""`manage.py xds_check`: does the configured upstream account work?

Authenticates, then counts the account's templates (both billing types, de-duplicated by
packageId), images, hosts, cloud disks and personal images:

    OK https://client.xuandashi.com account A27550582: 12 templates, 8 images, 57 hosts,
    9 disks, 3 personal images

On failure the error's words for members, code and trace id go to stderr and the command exits
non-zero.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.upstream import build_client
from dashboard.wording import error_words_in
from vmclient.errors import XdsError
from vmclient.types import BillingType


class Command(BaseCommand):
    help = (
        "Check the Xuandashi account: authenticate and count templates, images, hosts, disks "
        "and personal images."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            help=f"the upstream to check instead of XDS_BASE_URL ({settings.XDS_BASE_URL})",
        )
        parser.add_argument(
            "--language",
            choices=("en", "zh"),
            default="en",
            help="language of the error message (default: en)",
        )

    def handle(self, *args, **options):
        base_url = options.get("base_url") or settings.XDS_BASE_URL
        try:
            with build_client(base_url=base_url, retries=1) as client:
                client.authenticate()
                templates = {
                    package.package_id
                    for billing in BillingType
                    for package in client.list_packages(billing)
                }
                images = client.list_images()
                hosts = client.list_hosts_page(1)
                disks = client.list_disks_page(1)
                personal_images = client.list_personal_images()
        except XdsError as err:
            code = err.code if err.code is not None else "none"
            trace_id = err.trace_id or "none"
            words = error_words_in(err, "zh-hans" if options["language"] == "zh" else "en")
            raise CommandError(f"{base_url}: {words} (code {code}, trace id {trace_id})") from err
        self.stdout.write(
            f"OK {client.base_url} account {client.uuid}: {len(templates)} templates, "
            f"{len(images)} images, {hosts.total} hosts, {disks.total} disks, "
            f"{len(personal_images)} personal images"
        )
