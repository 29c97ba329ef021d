"""`manage.py healthz`: the /healthz checks from the command line, for container health checks.

    manage.py healthz                        every /healthz check, in this process
    manage.py healthz --check beat           only the named check(s); `beat` is only here
    manage.py healthz --http http://127.0.0.1:8000/healthz
                                             ask a running web server instead

Prints the report as JSON and exits 0 when healthy, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.health import ALL_CHECKS, CHECKS, health_report


def _host_header() -> str | None:
    """A name the server accepts (the first of ALLOWED_HOSTS that is a plain name), so a probe
    on 127.0.0.1 passes Django's host check whatever the public name is."""
    for host in settings.ALLOWED_HOSTS:
        name = host.lstrip(".")
        if name and name != "*":
            return name
    return None


def _timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {value!r}")
    return seconds


class Command(BaseCommand):
    help = "Run the health checks of /healthz (or ask a URL); exit 0 when healthy, 1 when not."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check",
            action="append",
            choices=sorted(ALL_CHECKS),
            help=f"a check to run (repeatable); default: {', '.join(CHECKS)}",
        )
        parser.add_argument("--http", metavar="URL", help="GET this /healthz URL instead")
        parser.add_argument("--timeout", type=_timeout, default=10.0, help="seconds, with --http")

    def handle(self, *args, check=None, http=None, timeout=10.0, **options) -> None:
        if http:
            healthy, body = self._ask(http, timeout)
        else:
            report = health_report(check)
            healthy, body = not report["failing"], json.dumps(report)
        self.stdout.write(body)
        if not healthy:
            sys.exit(1)

    @staticmethod
    def _ask(url: str, timeout: float) -> tuple[bool, str]:
        if not url.startswith(("http://", "https://")):
            raise CommandError("--http needs an http:// or https:// URL")
        request = urllib.request.Request(url)  # noqa: S310 - scheme checked above
        host = _host_header()
        if host:
            request.add_header("Host", host)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status == 200, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return False, exc.read().decode(errors="replace")
        except OSError as exc:
            return False, json.dumps({"status": "unreachable", "error": type(exc).__name__})
