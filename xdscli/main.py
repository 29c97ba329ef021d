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
    xds disks [--status S] [--area A] [--owner O] [--mounted yes|no]
    xds disk ID
    xds disk-create --area A --size GB [--host H] [--key K] [--wait]
    xds disk-attach ID --host H [--power-off-first] [--wait]
    xds disk-detach ID [--wait]
    xds disk-destroy ID --yes [--wait]
    xds images                            the personal images (system-images: the catalog's)
    xds image ID
    xds image-save HOST --name N [--key K] [--wait]
    xds image-rename ID --name N [--wait]
    xds image-delete ID --yes [--wait]

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
    api.EXIT_NOT_FOUND: "no such host, disk, image or operation",
    api.EXIT_CONFLICT: "the host, disk or image is busy, or its state does not allow it",
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
    ("ON", "target"),
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
    ("disk", "disk"),
    ("image", "image"),
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
DISK_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("STATUS", "status"),
    ("GB", "size_gb"),
    ("AREA", "area"),
    ("HOST", "host"),
    ("PER HOUR", "price_per_hour"),
    ("OWNER", "owner"),
]
DISK_FIELDS = [
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("size GB", "size_gb"),
    ("area", "area"),
    ("mounted on", "host"),
    ("per hour", "price_per_hour"),
    ("created", "created_at"),
    ("owner", "owner"),
    ("in flight", "operation_in_flight"),
    ("you may", "actions"),
]
DISK_FILTERS = ("status", "area", "owner", "mounted")
AREAS = ("south-china", "west-china", "international")
PERSONAL_IMAGE_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("STATUS", "status"),
    ("SYSTEM", "system"),
    ("CREATED", "created_at"),
    ("OWNER", "owner"),
]
PERSONAL_IMAGE_FIELDS = [
    ("id", "id"),
    ("image id", "image_id"),
    ("name", "name"),
    ("status", "status"),
    ("system", "system"),
    ("size", "size"),
    ("datacenter", "datacenter"),
    ("created", "created_at"),
    ("owner", "owner"),
    ("in flight", "operation_in_flight"),
    ("you may", "actions"),
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
    command("system-images", "the system images of the catalog")
    _storage_commands(command)
    return top


def _storage_commands(command) -> None:
    disks = command("disks", "list cloud disks (with the disks page's filters)")
    for name in DISK_FILTERS:
        disks.add_argument(f"--{name}")
    command("disk", "one cloud disk").add_argument("disk_id", metavar="ID")
    create = command("disk-create", "create a cloud disk (billed by the hour)", wait=True)
    create.add_argument("--area", required=True, choices=AREAS)
    create.add_argument("--size", required=True, type=int, metavar="GB", help="20 GB or more")
    create.add_argument("--host", help="mount it at once on this host (off, of that area)")
    create.add_argument("--key", help="an idempotency key: the same key never makes two")
    attach = command("disk-attach", "mount a disk on a host", wait=True)
    attach.add_argument("disk_id", metavar="ID")
    attach.add_argument("--host", required=True)
    attach.add_argument(
        "--power-off-first", action="store_true", help="the host runs: power it off first"
    )
    command("disk-detach", "unmount a disk", wait=True).add_argument("disk_id", metavar="ID")
    destroy = command("disk-destroy", "destroy a disk and its data (for ever)", wait=True)
    destroy.add_argument("disk_id", metavar="ID")
    destroy.add_argument("--yes", action="store_true", help="yes, destroy it")
    command("images", "list the personal images")
    command("image", "one personal image").add_argument("image_id", metavar="ID")
    save = command("image-save", "save a personal image of a host", wait=True)
    save.add_argument("host_id", metavar="HOST")
    save.add_argument("--name", required=True)
    save.add_argument("--key", help="an idempotency key: the same key never makes two")
    rename = command("image-rename", "rename a personal image", wait=True)
    rename.add_argument("image_id", metavar="ID")
    rename.add_argument("--name", required=True)
    delete = command("image-delete", "delete a personal image (for ever)", wait=True)
    delete.add_argument("image_id", metavar="ID")
    delete.add_argument("--yes", action="store_true", help="yes, delete it")


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
    host = operation.get("host_name") or operation.get("host_id")
    disk = operation.get("disk_name") or operation.get("disk_id")
    image = operation.get("image_name") or operation.get("image_id")
    return {
        **operation,
        "host": host,
        "disk": disk,
        "image": image,
        "target": disk or image or host,
    }


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


def cmd_system_images(args) -> int:
    images = _client(args).all_pages("images/")
    return _show(args, images, lambda rows: print_table(rows, IMAGE_COLUMNS))


# --- Cloud disks and personal images ---------------------------------------------------------


def _disk_row(disk: dict) -> dict:
    return {**disk, "host": disk.get("host_name") or disk.get("host_id")}


def cmd_disks(args) -> int:
    filters = {name: getattr(args, name) for name in DISK_FILTERS}
    disks = _client(args).all_pages("disks/", **filters)
    return _show(args, disks, lambda rows: print_table(list(map(_disk_row, rows)), DISK_COLUMNS))


def cmd_disk(args) -> int:
    disk = _client(args).get(f"disks/{_quoted(args.disk_id)}/")
    return _show(args, disk, lambda row: print_fields(_disk_row(row), DISK_FIELDS))


def cmd_disk_create(args) -> int:
    body = {"area": args.area, "size_gb": args.size}
    if args.host:
        body["host_id"] = args.host
    client = _client(args)
    operation = client.post("disks/", body, key=args.key or str(uuid.uuid4()))
    return _started(args, client, operation)


def cmd_disk_attach(args) -> int:
    body = {"host_id": args.host, "power_off_first": args.power_off_first}
    client = _client(args)
    path = f"disks/{_quoted(args.disk_id)}/attach/"
    return _started(args, client, client.post(path, body, key=str(uuid.uuid4())))


def cmd_disk_detach(args) -> int:
    client = _client(args)
    path = f"disks/{_quoted(args.disk_id)}/detach/"
    return _started(args, client, client.post(path, key=str(uuid.uuid4())))


def _destroy(args, what: str, path: str) -> int:
    """`--yes` is the shell's confirmation: the command then sends the name the API asks for
    (`confirm_name`), read from the thing itself."""
    if not args.yes:
        return _fail(args, f"{what} cannot be undone: add --yes", EXIT_USAGE)
    client = _client(args)
    found = client.get(path)
    name = found.get("name") or found["id"]
    operation = client.delete(path, key=str(uuid.uuid4()), confirm_name=name)
    return _started(args, client, operation)


def cmd_disk_destroy(args) -> int:
    path = f"disks/{_quoted(args.disk_id)}/"
    return _destroy(args, f"destroying disk {args.disk_id} and its data", path)


def cmd_images(args) -> int:
    images = _client(args).all_pages("personal-images/")
    return _show(args, images, lambda rows: print_table(rows, PERSONAL_IMAGE_COLUMNS))


def cmd_image(args) -> int:
    image = _client(args).get(f"personal-images/{_quoted(args.image_id)}/")
    return _show(args, image, lambda row: print_fields(row, PERSONAL_IMAGE_FIELDS))


def cmd_image_save(args) -> int:
    client = _client(args)
    path = f"hosts/{_quoted(args.host_id)}/personal-image/"
    operation = client.post(path, {"name": args.name}, key=args.key or str(uuid.uuid4()))
    return _started(args, client, operation)


def cmd_image_rename(args) -> int:
    client = _client(args)
    path = f"personal-images/{_quoted(args.image_id)}/rename/"
    return _started(args, client, client.post(path, {"name": args.name}, key=str(uuid.uuid4())))


def cmd_image_delete(args) -> int:
    path = f"personal-images/{_quoted(args.image_id)}/"
    return _destroy(args, f"deleting personal image {args.image_id}", path)


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
    what = _op_row(operation)["target"] or ""
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
    "system-images": cmd_system_images,
    "disks": cmd_disks,
    "disk": cmd_disk,
    "disk-create": cmd_disk_create,
    "disk-attach": cmd_disk_attach,
    "disk-detach": cmd_disk_detach,
    "disk-destroy": cmd_disk_destroy,
    "images": cmd_images,
    "image": cmd_image,
    "image-save": cmd_image_save,
    "image-rename": cmd_image_rename,
    "image-delete": cmd_image_delete,
}
