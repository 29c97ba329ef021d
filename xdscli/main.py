"""The `xds` commands.

    xds login [--url URL]                 keep the URL and a token (asked for) in a 0600 file
    xds logout
    xds whoami
    xds hosts [--status S] [--q TEXT] [--owner O] [--label L] [--billing B] [--area A]
    xds host ID
    xds create --package P --image I [--rental --period month --count 1] [--key K] [--wait]
    xds power-on|power-off|reboot ID [--wait]
    xds delete ID --yes [--wait]
    xds ops [--host H] [--person P] [--kind K] [--state S] [--limit N]
    xds op ID [--wait]

Every command takes --json (JSON on stdout, for programs), --url and --token (else
XDS_API_URL / XDS_API_TOKEN, else `xds login`'s file). `--wait` follows the operation with a
progress line on stderr until it is final. The exit codes are `EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
import uuid
from urllib.parse import quote

from xdscli import client as api
from xdscli import config
from xdscli.output import print_fields, print_json, print_table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_UNKNOWN, EXIT_TIMEOUT = 9, 10
EXIT_CODES = {
    EXIT_OK: "done (with --wait: the operation succeeded)",
    EXIT_FAILED: "the operation failed, was cancelled or rejected (--wait), or another error",
    EXIT_USAGE: "a command or value not valid (the API's 400 too)",
    api.EXIT_UNAUTHORIZED: "not signed in, or the token is not valid (revoked, expired)",
    api.EXIT_FORBIDDEN: "beyond the token's scope or your role",
    api.EXIT_NOT_FOUND: "no such host or operation",
    api.EXIT_CONFLICT: "the host is busy with another action, or its state does not allow it",
    api.EXIT_RATE_LIMITED: "too many requests (still, after waiting as asked)",
    api.EXIT_UNAVAILABLE: "the dashboard cannot be reached, or failed",
    EXIT_UNKNOWN: "the operation's outcome is unknown: check before trying again (--wait)",
    EXIT_TIMEOUT: "--wait gave up; the operation goes on",
}

HOST_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("STATUS", "status"),
    ("GPU", "gpu"),
    ("OS", "operating_system"),
    ("BILLING", "billing"),
    ("EXPIRES", "expires_at"),
    ("OWNER", "owner"),
    ("LABELS", "labels"),
]
HOST_FIELDS = [
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("gpu", "gpu"),
    ("cpu cores", "cpu_cores"),
    ("memory GB", "memory_gb"),
    ("disk GB", "disk_gb"),
    ("os", "operating_system"),
    ("connect", "connect"),
    ("area", "area"),
    ("billing", "billing"),
    ("created", "created_at"),
    ("expires", "expires_at"),
    ("owner", "owner"),
    ("labels", "labels"),
    ("note", "note"),
    ("in flight", "operation_in_flight"),
    ("you may", "actions"),
]
OP_COLUMNS = [
    ("ID", "id"),
    ("KIND", "kind"),
    ("STATE", "state"),
    ("HOST", "host"),
    ("BY", "requested_by"),
    ("AT", "created_at"),
    ("CODE", "code"),
    ("MESSAGE", "message"),
]
ME_FIELDS = [
    ("member", "username"),
    ("roles", "roles"),
    ("token", "token"),
    ("scopes", "scopes"),
    ("expires", "token_expires_at"),
]
IMAGE_COLUMNS = [
    ("ID", "image_id"),
    ("SYSTEM", "label"),
    ("TYPE", "type"),
    ("TEMPLATES", "template_count"),
]
HOST_FILTERS = ("status", "q", "owner", "label", "billing", "area", "os", "sort")
OP_FILTERS = ("host", "person", "kind", "state")
OP_FIELDS = [
    ("operation", "id"),
    ("kind", "kind_label"),
    ("state", "state_label"),
    ("host", "host"),
    ("by", "requested_by"),
    ("code", "code"),
    ("message", "message"),
    ("trace id", "trace_id"),
]
PACKAGE_COLUMNS = [
    ("ID", "package_id"),
    ("NAME", "name"),
    ("BILLING", "billing"),
    ("PER HOUR", "price"),
    ("GPU", "gpu_number"),
    ("CPU", "cpu_cores"),
    ("MEMORY", "memory_gb"),
    ("AREA", "area"),
    ("IMAGES", "image_ids"),
]
FINAL_EXIT = {"succeeded": EXIT_OK, "unknown": EXIT_UNKNOWN}
PERIODS = ("day", "week", "month", "quarter", "year")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="JSON on stdout, for programs")
    common.add_argument("--url", help="the dashboard (default: XDS_API_URL, or xds login's)")
    common.add_argument("--token", help="a personal API token (default: XDS_API_TOKEN)")
    return common


def _waiting() -> argparse.ArgumentParser:
    waiting = argparse.ArgumentParser(add_help=False)
    waiting.add_argument("--wait", action="store_true", help="follow it until it is final")
    waiting.add_argument("--wait-timeout", type=float, default=3600, metavar="SECONDS")
    waiting.add_argument("--interval", type=float, default=2.0, metavar="SECONDS")
    return waiting


def parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code:>2}  {meaning}" for code, meaning in EXIT_CODES.items())
    top = argparse.ArgumentParser(
        prog="xds",
        description="The Xuandashi team dashboard from a shell, through its API.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, waiting = _common(), _waiting()

    def command(name, help_text, *, wait=False):
        parents = [common, waiting] if wait else [common]
        return commands.add_parser(name, help=help_text, parents=parents)

    command("login", "keep the dashboard's URL and your token for the next commands")
    command("logout", "forget them")
    command("whoami", "who the token acts for, and its scopes")
    hosts = command("hosts", "list hosts (with the host list's filters)")
    for name in HOST_FILTERS:
        hosts.add_argument(f"--{name}")
    command("host", "one host").add_argument("host_id", metavar="ID")
    create = command("create", "buy a host", wait=True)
    create.add_argument("--package", required=True, help="a template's id (xds packages)")
    create.add_argument("--image", required=True, help="an image's id that fits it")
    create.add_argument("--rental", action="store_true", help="rent it (default: pay-as-you-go)")
    create.add_argument("--period", choices=PERIODS, default="month")
    create.add_argument("--count", type=int, default=1, help="how many periods (rental)")
    create.add_argument(
        "--key", help="an idempotency key: the same key never buys twice (default: a new one)"
    )
    for name, text in (("power-on", "power on"), ("power-off", "power off"), ("reboot", "reboot")):
        command(name, f"{text} a host", wait=True).add_argument("host_id", metavar="ID")
    delete = command("delete", "delete a host (for ever)", wait=True)
    delete.add_argument("host_id", metavar="ID")
    delete.add_argument("--yes", action="store_true", help="yes, delete it")
    ops = command("ops", "list operations, newest first")
    for name in OP_FILTERS:
        ops.add_argument(f"--{name}")
    ops.add_argument("--limit", type=int, default=20)
    command("op", "one operation", wait=True).add_argument("operation_id", type=int, metavar="ID")
    command("packages", "the templates, with prices and the images that fit")
    command("images", "the system images")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except config.ConfigError as exc:
        return _fail(args, str(exc), api.EXIT_UNAUTHORIZED)
    except api.ApiError as exc:
        if args.json:
            print_json(exc.as_json())
        return _fail(args, exc.message, exc.exit_code, shown=args.json)
    except KeyboardInterrupt:
        return 130


def _fail(args, message: str, code: int, *, shown: bool = False) -> int:
    if args.json and not shown:
        print_json({"error": message})
    print(f"xds: {message}", file=sys.stderr)
    return code


def _client(args) -> api.Client:
    found = config.resolve(args.url, args.token)
    return api.Client(found.url, found.token)


# --- Commands ------------------------------------------------------------------------------


def cmd_login(args) -> int:
    url = args.url or input("Dashboard URL (such as https://dash.example.com): ").strip()
    token = args.token or getpass.getpass("API token (from /account/tokens/): ").strip()
    me = api.Client(url, token).get("me/")  # raises when the URL or the token is wrong
    path = config.save(url.rstrip("/"), token)
    if args.json:
        print_json({**me, "config": str(path)})
    else:
        scopes = ", ".join(me["scopes"])
        print(f"Signed in to {url} as {me['username']} (token {me['token']!r}: {scopes});")
        print(f"kept in {path} (only you can read it).")
    return EXIT_OK


def cmd_logout(args) -> int:
    forgot = config.forget()
    if not args.json:
        print("Signed out." if forgot else "Not signed in.")
    else:
        print_json({"signed_out": forgot})
    return EXIT_OK


def _show(args, data, for_people) -> int:
    """JSON for programs (--json), else `for_people(data)`: a table or a list of fields."""
    if args.json:
        print_json(data)
    else:
        for_people(data)
    return EXIT_OK


def cmd_whoami(args) -> int:
    return _show(args, _client(args).get("me/"), lambda me: print_fields(me, ME_FIELDS))


def _host_row(host: dict) -> dict:
    gpu = f"{host['gpu_number']}x {host['gpu_description']}" if host.get("gpu_number") else ""
    port = f":{host['port']}" if host.get("port") else ""
    user = f"{host['login_user']}@" if host.get("login_user") else ""
    connect = f"{user}{host['address']}{port}" if host.get("address") else ""
    return {**host, "gpu": gpu, "connect": connect}


def cmd_hosts(args) -> int:
    filters = {name: getattr(args, name) for name in HOST_FILTERS}
    hosts = _client(args).all_pages("hosts/", **filters)
    return _show(args, hosts, lambda rows: print_table([_host_row(h) for h in rows], HOST_COLUMNS))


def cmd_host(args) -> int:
    host = _client(args).get(f"hosts/{_quoted(args.host_id)}/")
    return _show(args, host, lambda row: print_fields(_host_row(row), HOST_FIELDS))


def _quoted(host_id: str) -> str:
    return quote(host_id, safe="")


def cmd_create(args) -> int:
    body = {"package_id": args.package, "image_id": args.image, "billing": "pay-as-you-go"}
    if args.rental:
        body.update(billing="rental", period_type=args.period, period_number=args.count)
    client = _client(args)
    operation = client.post("hosts/", body, key=args.key or str(uuid.uuid4()))
    return _started(args, client, operation)


def _action(path: str):
    def run(args) -> int:
        client = _client(args)
        operation = client.post(f"hosts/{_quoted(args.host_id)}/{path}/", key=str(uuid.uuid4()))
        return _started(args, client, operation)

    return run


def cmd_delete(args) -> int:
    if not args.yes:
        return _fail(args, f"deleting {args.host_id} cannot be undone: add --yes", EXIT_USAGE)
    client = _client(args)
    operation = client.delete(f"hosts/{_quoted(args.host_id)}/", key=str(uuid.uuid4()))
    return _started(args, client, operation)


def _op_row(operation: dict) -> dict:
    return {**operation, "host": operation.get("host_name") or operation.get("host_id")}


def cmd_ops(args) -> int:
    filters = {name: getattr(args, name) for name in OP_FILTERS}
    operations = _client(args).all_pages("operations/", limit=args.limit, **filters)
    return _show(args, operations, lambda rows: print_table(list(map(_op_row, rows)), OP_COLUMNS))


def cmd_op(args) -> int:
    client = _client(args)
    operation = client.get(f"operations/{args.operation_id}/")
    if args.wait:
        return _follow(args, client, operation)
    _show_operation(args, operation)
    return EXIT_OK


def _package_row(row: dict) -> dict:
    images = [image["image_id"] for image in row["images"]]
    return {**row, "price": "/".join(row["hourly_prices"]), "image_ids": images}


def cmd_packages(args) -> int:
    templates = _client(args).all_pages("packages/")
    return _show(
        args, templates, lambda rows: print_table(list(map(_package_row, rows)), PACKAGE_COLUMNS)
    )


def cmd_images(args) -> int:
    images = _client(args).all_pages("images/")
    return _show(args, images, lambda rows: print_table(rows, IMAGE_COLUMNS))


# --- Operations: started, shown, followed --------------------------------------------------


def _started(args, client: api.Client, operation: dict) -> int:
    if args.wait:
        return _follow(args, client, operation)
    _show_operation(args, operation)
    return EXIT_OK


def _show_operation(args, operation: dict) -> None:
    _show(args, operation, lambda row: print_fields(_op_row(row), OP_FIELDS))


def _progress(operation: dict, started: float) -> str:
    last = (operation.get("timeline") or [{}])[-1]
    what = operation.get("host_name") or operation.get("host_id") or ""
    step = last.get("detail") or last.get("label") or ""
    elapsed = int(time.monotonic() - started)
    subject = " ".join(
        part for part in (f"#{operation['id']}", operation["kind_label"], what) if part
    )
    state = operation["state_label"] + (f" · {step}" if step else "")
    return f"[{elapsed:>4}s] {subject}: {state}"


def _follow(args, client: api.Client, operation: dict) -> int:
    """Poll the operation until it is final, a progress line on stderr (rewritten in place on
    a terminal, a line per change otherwise); the exit code says how it ended."""
    started = time.monotonic()
    tty = sys.stderr.isatty()
    shown = ""
    while True:
        line = _progress(operation, started)
        if tty:
            sys.stderr.write("\r\x1b[K" + line)
            sys.stderr.flush()
        elif line.split(": ", 1)[-1] != shown.split(": ", 1)[-1]:
            print(line, file=sys.stderr)
        shown = line
        if operation["final"]:
            break
        if time.monotonic() - started > args.wait_timeout:
            if tty:
                sys.stderr.write("\n")
            _show_operation(args, operation)
            again = f"`xds op {operation['id']} --wait` follows it again"
            message = f"still {operation['state']} after {args.wait_timeout:g} s; {again}"
            return _fail(args, message, EXIT_TIMEOUT, shown=True)
        time.sleep(args.interval)
        operation = client.get(f"operations/{operation['id']}/")
    if tty:
        sys.stderr.write("\n")
    _show_operation(args, operation)
    return FINAL_EXIT.get(operation["state"], EXIT_FAILED)


COMMANDS = {
    "login": cmd_login,
    "logout": cmd_logout,
    "whoami": cmd_whoami,
    "hosts": cmd_hosts,
    "host": cmd_host,
    "create": cmd_create,
    "power-on": _action("power-on"),
    "power-off": _action("power-off"),
    "reboot": _action("reboot"),
    "delete": cmd_delete,
    "ops": cmd_ops,
    "op": cmd_op,
    "packages": cmd_packages,
    "images": cmd_images,
}
