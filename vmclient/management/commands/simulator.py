"""`manage.py simulator`: serve the simulated upstream in the foreground until Ctrl-C or SIGTERM.

The account defaults to the dashboard's configured one (XDS_UUID / XDS_SECRET), so a demo's
dashboard and simulator agree without any setup. Request lines are logged with `-v 2`.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import threading
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vmclient.simulator import Simulator, SimulatorConfig
from vmclient.simulator.config import DOC_VERSIONS

DEFAULT_SECRET = SimulatorConfig.secret


# Argument types: a bad value is one line from argparse ("argument --port: must be ..."), not a
# traceback from deep inside the server.


def _whole(minimum: int, maximum: int | None = None, what: str = "a whole number"):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise argparse.ArgumentTypeError(f"must be {what} {bounds}, not {value!r}")
        return number

    return parse


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more, not {value!r}")
    return number


def _decimal(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(f"must be an amount, 0 or more, not {value!r}")
    return amount


class Command(BaseCommand):
    help = "Run the Xuandashi API simulator in the foreground (Ctrl-C stops it)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument(
            "--port", type=_whole(0, 65535, "a port"), default=8765, help="port (0: any free port)"
        )
        parser.add_argument("--hosts", type=_whole(0), default=50, help="size of the seeded fleet")
        parser.add_argument("--seed", type=int, default=1, help="random seed of the fleet")
        parser.add_argument("--doc-version", choices=DOC_VERSIONS, default="later")
        parser.add_argument("--uuid", default=getattr(settings, "XDS_UUID", None) or None)
        parser.add_argument("--secret", default=getattr(settings, "XDS_SECRET", None) or None)
        parser.add_argument("--latency", type=_seconds, default=0.0, help="seconds per answer")
        parser.add_argument("--boot-seconds", type=_seconds, default=30.0)
        parser.add_argument("--shutdown-seconds", type=_seconds, default=20.0)
        parser.add_argument("--reboot-seconds", type=_seconds, default=30.0)
        parser.add_argument("--charging-seconds", type=_seconds, default=10.0)
        parser.add_argument("--mount-seconds", type=_seconds, default=20.0)
        parser.add_argument("--unmount-seconds", type=_seconds, default=10.0)
        parser.add_argument("--destroy-seconds", type=_seconds, default=30.0)
        parser.add_argument("--image-make-seconds", type=_seconds, default=120.0)
        parser.add_argument(
            "--disk-quota-gb",
            type=_whole(1),
            default=1000,
            help="GB of disks per area (220014 beyond)",
        )
        parser.add_argument("--wallet", type=_decimal, default=Decimal("10000"))
        parser.add_argument("--token-lifetime-ms", type=_whole(1), default=1_800_000)

    def handle(self, *args, **options) -> None:
        account = {}
        if options["uuid"]:
            account["uuid"] = options["uuid"]
        if options["secret"]:
            account["secret"] = options["secret"]
        config = SimulatorConfig(
            doc_version=options["doc_version"],
            latency=options["latency"],
            boot_seconds=options["boot_seconds"],
            shutdown_seconds=options["shutdown_seconds"],
            reboot_seconds=options["reboot_seconds"],
            charging_seconds=options["charging_seconds"],
            mount_seconds=options["mount_seconds"],
            unmount_seconds=options["unmount_seconds"],
            destroy_seconds=options["destroy_seconds"],
            image_make_seconds=options["image_make_seconds"],
            disk_area_quota_gb=options["disk_quota_gb"],
            wallet_balance=options["wallet"],
            token_lifetime_ms=options["token_lifetime_ms"],
            **account,
        )
        if options["verbosity"] < 2:
            # One line per request drowns a demo's terminal; -v 2 shows them.
            logging.getLogger("vmclient.simulator").setLevel(logging.WARNING)
        sim = Simulator(config=config, hosts=options["hosts"], rng_seed=options["seed"])
        try:
            sim.start(host=options["host"], port=options["port"])
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc

        stop = threading.Event()
        previous = {
            signum: signal.signal(signum, lambda *_: stop.set())
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.stdout.write(f"simulator: serving the Xuandashi API at {sim.url}")
            # The secret is shown only when it is the well-known simulated one.
            shown = sim.secret if sim.secret == DEFAULT_SECRET else "(as configured)"
            self.stdout.write(f"simulator: account uuid {sim.uuid}, secret {shown}")
            self.stdout.write(
                f"simulator: {options['hosts']} hosts, {len(sim.fleet.storage.disks)} disks, "
                f"{len(sim.fleet.storage.images)} personal images, doc version "
                f"{config.doc_version}; Ctrl-C stops it"
            )
            self.stdout.flush()
            while not stop.wait(0.5):
                pass
        finally:
            # Handlers stay ours until the server is down, so a second Ctrl-C (or `timeout`
            # signalling the whole group) cannot interrupt the stop with a traceback.
            sim.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.stdout.write("simulator: stopped")
