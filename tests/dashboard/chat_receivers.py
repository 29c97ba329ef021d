"""Local chat platforms: real HTTP servers on localhost that check each request's signature
exactly as the platform documents it and answer as the platform does (errors inside HTTP 200,
rate limits included). Written from the platforms' documentation, not from our code:

- DingTalk group robot: `access_token` in the query; with signing, `timestamp` (ms, within an
  hour) and `sign` = urlencode(base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))); answers
  {"errcode": 310000, "errmsg": "sign not match..."} for a bad signature, 130101 past 20
  messages a minute, 300001 for a bad token, {"errcode": 0, "errmsg": "ok"} otherwise.
- Feishu custom bot: `timestamp` (s) and `sign` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}",
  msg="")) in the body; {"code": 19021, ...} for a bad signature, 9499 when rate limited,
  {"StatusCode": 0, "StatusMessage": "success", "code": 0, ...} otherwise.
- WeCom group robot: `key` in the query; {"errcode": 93000, ...} for a bad key, 45009 past 20
  a minute.
- Slack incoming webhook: "ok"; HTTP 400 "invalid_payload", HTTP 429 with Retry-After.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "tok-5f2e8a"


class Platform(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, kind: str, secret: str = "", per_minute: int | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.kind, self.secret, self.per_minute = kind, secret, per_minute
        self.received: list[dict] = []  # bodies of the messages taken
        self.answers: list[tuple[int, str]] = []  # what was answered, in order
        self.down_with: tuple[int, bytes] | None = None  # answer this, whatever is sent
        self.minute_count: dict[int, int] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        base = f"http://127.0.0.1:{self.server_port}"
        return {
            "dingtalk": f"{base}/robot/send?access_token={TOKEN}",
            "feishu": f"{base}/open-apis/bot/v2/hook/{TOKEN}",
            "wecom": f"{base}/cgi-bin/webhook/send?key={TOKEN}",
            "slack": f"{base}/services/T0/B0/{TOKEN}",
            "webhook": f"{base}/hook",
        }[self.kind]

    def over_rate(self) -> bool:
        if self.per_minute is None:
            return False
        minute = int(time.time() // 60)
        with self.lock:
            self.minute_count[minute] = self.minute_count.get(minute, 0) + 1
            return self.minute_count[minute] > self.per_minute


def dingtalk_expected_sign(secret: str, timestamp: str) -> str:
    """The base64 value of `sign` (the query string carries it URL-encoded)."""
    string_to_sign = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_expected_sign(secret: str, timestamp: str) -> str:
    string_to_sign = f"{timestamp}\n{secret}"
    digest = hmac.new(string_to_sign.encode(), digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Handler(BaseHTTPRequestHandler):
    server: Platform

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.server.answers.append((status, data.decode()))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = urlsplit(self.path)
        # Keep blanks and "+": the sign's base64 may hold "+", which must arrive URL-encoded.
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._answer(400, b"not json")
        if self.server.down_with is not None:
            status, content = self.server.down_with
            return self._answer(status, content)
        getattr(self, f"_{self.server.kind}")(parts.path, query, body)

    def _take(self, body, answer, status=200):
        self.server.received.append(body)
        self._answer(status, answer)

    def _dingtalk(self, path, query, body):
        if path != "/robot/send" or query.get("access_token") != [TOKEN]:
            return self._answer(200, {"errcode": 300001, "errmsg": "token is not exist"})
        if self.server.secret:
            timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            fresh = timestamp.isdigit() and abs(int(timestamp) / 1000 - time.time()) < 3600
            if not fresh or sign != dingtalk_expected_sign(self.server.secret, timestamp):
                return self._answer(
                    200,
                    {"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc...]"},
                )
        if body.get("msgtype") not in {"markdown", "actionCard"} or not body.get(
            body.get("msgtype", "")
        ):
            return self._answer(200, {"errcode": 40035, "errmsg": "missing parameter"})
        if self.server.over_rate():
            return self._answer(
                200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
            )
        self._take(body, {"errcode": 0, "errmsg": "ok"})

    def _feishu(self, path, query, body):
        if path != f"/open-apis/bot/v2/hook/{TOKEN}":
            return self._answer(
                200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
            )
        if self.server.secret:
            timestamp, sign = str(body.get("timestamp", "")), body.get("sign", "")
            fresh = timestamp.isdigit() and abs(int(timestamp) - time.time()) < 3600
            if not fresh or sign != feishu_expected_sign(self.server.secret, timestamp):
                return self._answer(
                    200,
                    {
                        "code": 19021,
                        "msg": "sign match fail or timestamp is not within one hour "
                        "from current time",
                    },
                )
        if body.get("msg_type") != "interactive" or "card" not in body:
            return self._answer(200, {"code": 19002, "msg": "params error, msg_type need"})
        if self.server.over_rate():
            return self._answer(200, {"code": 9499, "msg": "too many request", "data": {}})
        self._take(
            body,
            {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"},
        )

    def _wecom(self, path, query, body):
        if path != "/cgi-bin/webhook/send" or query.get("key") != [TOKEN]:
            return self._answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("content"):
            return self._answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
        if self.server.over_rate():
            return self._answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
        self._take(body, {"errcode": 0, "errmsg": "ok"})

    def _slack(self, path, query, body):
        if path != f"/services/T0/B0/{TOKEN}":
            return self._answer(404, b"no_service")
        if not body.get("text") and not body.get("blocks"):
            return self._answer(400, b"invalid_payload")
        if self.server.over_rate():
            return self._answer(429, b"rate_limited", {"Retry-After": "7"})
        self.server.received.append(body)
        self._answer(200, b"ok")

    def _webhook(self, path, query, body):
        self._take(body, b"")
