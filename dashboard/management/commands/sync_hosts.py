from django.core.management.base import BaseCommand, CommandError

from dashboard import services
from dashboard.wording import error_words


class Command(BaseCommand):
    help = "Sync the host mirror with the upstream once: what the Celery beat task does."

    def add_arguments(self, parser):
        parser.add_argument(
            "--catalog",
            action="store_true",
            help="Also refresh the cached templates and images.",
        )

    def handle(self, *args, catalog: bool = False, **options):
        result = services.hosts_sync()
        if result.skipped:
            raise CommandError("Another sync is running; try again in a moment.")
        if result.error is not None:
            trace = result.error.trace_id or "none"
            raise CommandError(
                f"Sync failed after {result.pages} pages, {result.seen} hosts saved, none marked "
                f"gone: {error_words(result.error)} (trace id {trace})"
            )
        self.stdout.write(f"synced {result.seen} hosts")
        if options["verbosity"] > 1:
            self.stdout.write(
                f"{result.created} new, {result.changed} changed, {result.gone} gone, "
                f"{result.pages} pages"
                + ("" if result.complete else "; listing inconsistent, nothing marked gone")
            )
        if catalog:
            if services.catalog_refresh() is None:
                raise CommandError("Catalog refresh failed; see the banner or the log.")
            self.stdout.write("refreshed the catalog")
