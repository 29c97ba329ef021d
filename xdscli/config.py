"""Where `xds` finds the dashboard and the token: the command line (--url, --token), else the
environment (XDS_API_URL, XDS_API_TOKEN), else the file `xds login` wrote.

The file is $XDS_CONFIG, or $XDG_CONFIG_HOME/xds/config.json (~/.config/xds/config.json):
created readable by its owner only (0600, in a 0700 folder), as it holds a token that acts for
them. A file others can read is refused until its mode is fixed.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    url: str
    token: str
    source: str  # where they came from, for messages


def config_path() -> Path:
    named = os.environ.get("XDS_CONFIG")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "xds" / "config.json"


def save(url: str, token: str) -> Path:
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Created 0600 from the start (never readable by others, not even for a moment).
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"url": url, "token": token}, handle)
        handle.write("\n")
    return path


def forget() -> bool:
    path = config_path()
    if path.exists():
        path.unlink()
        return True
    return False


def _saved() -> dict:
    path = config_path()
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path} can be read by others (mode {mode:o}): run `chmod 600 {path}` "
            "(and revoke the token if others may have read it)"
        )
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}): run `xds login` again") from None
    return saved if isinstance(saved, dict) else {}


def resolve(url: str | None = None, token: str | None = None) -> Settings:
    """The URL and token to use; raises ConfigError when either is missing."""
    env_url, env_token = os.environ.get("XDS_API_URL"), os.environ.get("XDS_API_TOKEN")
    source = "the command line" if url or token else "the environment"
    url, token = url or env_url, token or env_token
    if not url or not token:
        saved = _saved()
        if saved:
            source = str(config_path())
        url, token = url or saved.get("url"), token or saved.get("token")
    if not url or not token:
        raise ConfigError("not signed in: run `xds login`, or set XDS_API_URL and XDS_API_TOKEN")
    return Settings(url=url.rstrip("/"), token=token, source=source)
