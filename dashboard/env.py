"""Typed readers for settings that come from the environment, and the one-line stop on a bad one.

Each reader checks what it reads (a number in its range and finite, one of its choices, a URL of
a supported scheme...) and raises `SettingError` naming the variable, the value and what is
allowed: a typo in a deployment's env file stops the process at start instead of surfacing
later as odd behaviour. A secret's value is never repeated in the message ("the value of
XDS_SECRET"), and a password in a URL is masked.

Every reader also takes the value from the file named by NAME_FILE (Docker secrets).

The entry points (the WSGI and ASGI modules, gunicorn's config, the Celery app, the demo) call
`load_settings_or_exit()` first, and manage.py runs its command inside
`settings_errors_as_one_line()` (so that --settings still works): a bad setting's message is
printed as one line and the process exits, instead of Django showing a traceback.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import math
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# scheme://user:password@host: the password part.
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)([^@\s/]+)(@)")


class SettingError(ImproperlyConfigured):
    """A setting that cannot be used; its message is one line meant for the person deploying."""


def mask_url_password(text: str, mask: str = "***") -> str:
    """`text` with the password of every URL in it (scheme://user:password@host) replaced."""
    return _URL_PASSWORD.sub(lambda m: f"{m[1]}{mask}{m[3]}", text)


def _shown(name: str, raw: str, secret: bool) -> str:
    return f"the value of {name}" if secret else repr(mask_url_password(raw))


def _raw(name: str) -> str | None:
    """The variable's value, from NAME or from the file NAME_FILE names; None when unset."""
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return os.environ.get(name)
    if os.environ.get(name, "").strip():  # an empty NAME= left in an env file is no conflict
        raise SettingError(f"set {name} or {name}_FILE, not both")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise SettingError(f"{name}_FILE names {path!r}, which cannot be read: {why}") from None


def env_str(
    name: str,
    default: str = "",
    *,
    required: bool = False,
    pattern: str | None = None,
    allowed: str = "",
    secret: bool = False,
) -> str:
    """A string; `required`: not empty when set; `pattern`: must match it (`allowed` says
    what it means in words)."""
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip()
    if required and not value:
        raise SettingError(f"{name} is set but empty: give it a value, or unset it for its default")
    if pattern and value and not re.fullmatch(pattern, value):
        raise SettingError(f"{name} must be {allowed}, not {_shown(name, raw, secret)}")
    return value


def env_choice(name: str, default: str, choices: Iterable[str], *, upper: bool = False) -> str:
    """One of `choices` (compared in lower case, or upper with `upper`); empty means default."""
    choices = tuple(choices)
    raw = _raw(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().upper() if upper else raw.strip().lower()
    if value not in choices:
        raise SettingError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name} must be true or false, not {raw!r}")


def _range(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    if maximum is not None:
        return f" of at most {maximum}"
    return ""


def env_int(
    name: str, default: int | None, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """A whole number within [minimum, maximum]; empty means default."""
    raw = _raw(name)
    if raw is None or raw.strip() == "":
        return default
    what = f"a whole number{_range(minimum, maximum)}"
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError(f"{name} must be {what}, not {raw!r}") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise SettingError(f"{name} must be {what}, not {raw!r}")
    return value


def env_float(name: str, default: float, *, above: float | None = None) -> float:
    """A finite number (never nan or inf), greater than `above`; empty means default."""
    raw = _raw(name)
    if raw is None or raw.strip() == "":
        return default
    what = "a number" + (f" above {above:g}" if above is not None else "")
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingError(f"{name} must be {what}, not {raw!r}") from None
    if not math.isfinite(value) or (above is not None and value <= above):
        raise SettingError(f"{name} must be {what}, not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated values, blanks dropped."""
    raw = _raw(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_list(name: str, default: list[int], *, minimum: int = 1) -> list[int]:
    """Comma-separated whole numbers of at least `minimum`, at least one: sorted, unique."""
    raw = _raw(name)
    if raw is None:
        return default
    what = f"whole numbers of at least {minimum}, comma-separated (such as 7,1)"
    try:
        values = sorted({int(item) for item in env_list(name, [])})
    except ValueError:
        raise SettingError(f"{name} must be {what}, not {raw!r}") from None
    if not values or values[0] < minimum:
        raise SettingError(f"{name} must be {what}, not {raw!r}")
    return values


def env_mapping(name: str, *, values: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """`key=value` pairs, comma-separated (`admins=Admin,ops=Operator,ops=Creator`): each key
    with the values given to it, each value one of `values`. Unset or empty: no pairs."""
    values = tuple(values)
    mapping: dict[str, tuple[str, ...]] = {}
    for item in env_list(name, []):
        key, sep, value = (part.strip() for part in item.rpartition("="))
        if not sep or not key or value not in values:
            raise SettingError(
                f"{name} must be pairs such as admins=Admin,ops=Operator (a group, =, one of "
                f"{', '.join(values)}), not {item!r}"
            )
        if value not in mapping.get(key, ()):
            mapping[key] = (*mapping.get(key, ()), value)
    return mapping


def env_time_zone(name: str, default: str) -> str:
    """An IANA time zone name (Asia/Shanghai, Europe/Paris, UTC)."""
    value = env_str(name, default) or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(
            f"{name} must be a time zone name such as Asia/Shanghai or UTC, not {value!r}"
        ) from None
    return value


def env_url(
    name: str, default: str, *, schemes: Iterable[str], needs_host: bool = True, secret=False
) -> str:
    """A URL of one of `schemes` (with a host unless `needs_host` is false); empty means
    default. Its password, if any, is masked in the message; a `secret` URL is not shown."""
    schemes = tuple(schemes)
    raw = _raw(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in schemes or (needs_host and not parts.hostname):
        allowed = " or ".join(f"{scheme}://" for scheme in schemes)
        raise SettingError(f"{name} must be a {allowed} URL, not {_shown(name, raw, secret)}")
    return value


def env_certificate_file(name: str) -> str:
    """The path of a readable file of PEM certificates (a private CA's, say); unset or empty:
    "" (the system's own store is trusted instead)."""
    path = env_str(name)
    if not path:
        return ""
    try:
        with open(path, encoding="ascii") as fh:
            pem = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "it is not a text file"
        raise SettingError(f"{name} names {path!r}, which cannot be read: {why}") from None
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise SettingError(
            f"{name} names {path!r}, which holds no PEM certificate "
            "(a block starting -----BEGIN CERTIFICATE-----)"
        )
    return os.path.abspath(path)


def url_origins(*urls: str) -> list[str]:
    """The origins (scheme://host[:port]) of the URLs given, each once, blanks left out: what a
    Content-Security-Policy source list names."""
    origins = []
    for url in urls:
        parts = urlsplit(url) if url else None
        if parts and parts.scheme and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
            if origin not in origins:
                origins.append(origin)
    return origins


def env_import_path(name: str, default: str) -> str:
    """The dotted path of a class in a module that exists (its import is left to its user);
    unset or empty: `default`."""
    value = (
        env_str(
            name,
            default,
            pattern=r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+",
            allowed=(
                "the dotted path of a class (such as django.core.mail.backends.smtp.EmailBackend)"
            ),
        )
        or default
    )
    module = value.rpartition(".")[0]
    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        found = False
    if not found:
        raise SettingError(f"{name} names a module that does not exist: {module!r}")
    return value


def env_networks(name: str, *, refuse_everyone: bool = True) -> list:
    """Comma-separated IP addresses or networks (10.0.0.0/8); see `parse_networks`."""
    return parse_networks(name, env_list(name, []), refuse_everyone=refuse_everyone)


def parse_networks(name: str, values: Iterable[str], *, refuse_everyone: bool = True) -> list:
    """IP addresses or networks, as networks; never one that holds every address (0.0.0.0/0,
    ::/0) when `refuse_everyone`."""
    networks = []
    for item in values:
        try:
            network = ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            raise SettingError(
                f"{name} must be IP addresses or networks (such as 10.0.0.1 or 10.0.0.0/8), "
                f"not {item!r}"
            ) from None
        if refuse_everyone and network.prefixlen == 0:
            raise SettingError(
                f"{name} must not be {item!r}: that trusts every address, so anyone could "
                "choose the address recorded for them; name the proxy's address or network"
            )
        networks.append(network)
    return networks


def refuse(message: str):
    """Stops the start with `message` (a check across several settings)."""
    raise SettingError(message)


# --- The entry points -------------------------------------------------------------------------


@contextmanager
def settings_errors_as_one_line(exit_code: int = 2) -> Iterator[None]:
    """A configuration error raised inside the block ends the process with its message as one
    line on stderr and `exit_code`, not a traceback."""
    try:
        yield
    except ImproperlyConfigured as exc:
        message = " ".join(str(exc).split())
        print(f"Configuration error: {message}", file=sys.stderr, flush=True)
        raise SystemExit(exit_code) from None


def load_settings_or_exit(exit_code: int = 2) -> None:
    """Loads Django's settings now, ending the process with one line if one is bad (see
    `settings_errors_as_one_line`). Does nothing when the settings are loaded."""
    from django.conf import settings

    with settings_errors_as_one_line(exit_code):
        settings.INSTALLED_APPS  # noqa: B018 - imports the settings module
