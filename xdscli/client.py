"""The API over HTTP, with `requests`. An answer that is not a success raises `ApiError`, whose
`exit_code` is what `xds` exits with (see `xdscli.main.EXIT_CODES`)."""

from __future__ import annotations

import os
import time
from typing import Any

import requests

EXIT_UNAUTHORIZED, EXIT_FORBIDDEN, EXIT_NOT_FOUND, EXIT_CONFLICT = 3, 4, 5, 6
EXIT_RATE_LIMITED, EXIT_UNAVAILABLE = 7, 8
_EXIT_BY_STATUS = {
    400: 2,
    401: EXIT_UNAUTHORIZED,
    403: EXIT_FORBIDDEN,
    404: EXIT_NOT_FOUND,
    409: EXIT_CONFLICT,
    422: EXIT_CONFLICT,
    429: EXIT_RATE_LIMITED,
}


class ApiError(Exception):
    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.message, self.status, self.body = message, status, body

    @property
    def exit_code(self) -> int:
        if self.status is None or self.status >= 500:
            return EXIT_UNAVAILABLE
        return _EXIT_BY_STATUS.get(self.status, 1)

    def as_json(self) -> dict:
        body = self.body if isinstance(self.body, dict) else {}
        return {"error": self.message, "status": self.status, **body}


def accept_language() -> str:
    """The shell's language (LANGUAGE, LC_ALL, LC_MESSAGES, LANG) as an Accept-Language."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").split(":")[0].split(".")[0]
        if value and value not in ("C", "POSIX"):
            return value.replace("_", "-")
    return "en"


class Client:
    # A 429 is waited out (as the answer's Retry-After says) this many times, then raised.
    RATE_RETRIES = 3

    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Accept-Language": accept_language(),
                "User-Agent": "xds-cli/1",
            }
        )

    def request(self, method: str, path: str, **kwargs) -> tuple[Any, requests.Response]:
        url = path if path.startswith("http") else f"{self.url}/api/v1/{path.lstrip('/')}"
        for attempt in range(self.RATE_RETRIES + 1):
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                raise ApiError(f"cannot reach {self.url}: {type(exc).__name__}") from None
            if response.status_code == 429 and attempt < self.RATE_RETRIES:
                time.sleep(min(60.0, float(response.headers.get("Retry-After") or 1)))
                continue
            break
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or body is None:
            detail = body.get("detail") if isinstance(body, dict) else None
            message = detail or f"HTTP {response.status_code} from {url}"
            if isinstance(body, dict) and isinstance(body.get("errors"), dict):
                fields = "; ".join(
                    f"{name}: {' '.join(map(str, why)) if isinstance(why, list) else why}"
                    for name, why in body["errors"].items()
                )
                message = f"{message} ({fields})"
            raise ApiError(message, status=response.status_code, body=body)
        return body, response

    def get(self, path: str, **params) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v})[0]

    def all_pages(self, path: str, *, limit: int | None = None, **params) -> list:
        """Every result of a paged list (following `next`), or the first `limit`."""
        results: list = []
        page = self.get(path, page_size=min(limit or 500, 500), **params)
        while True:
            results.extend(page["results"])
            if not page.get("next") or (limit is not None and len(results) >= limit):
                return results[:limit] if limit is not None else results
            page = self.request("GET", page["next"])[0]

    def post(self, path: str, body: dict | None = None, *, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.request("POST", path, json=body, headers=headers)[0]

    def delete(self, path: str, *, key: str | None = None, **params) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.request("DELETE", path, headers=headers, params=params or None)[0]
