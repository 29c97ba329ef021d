"""What each chat platform takes and answers: its message format, its signature, and how to read
its answer. No database, no network: dashboard.services.alert_delivery sends what this builds.

The formats and signatures are each platform's documented ones:

- DingTalk group robot: an `actionCard` (markdown and one button) or `markdown` message. A robot
  with "signing" on takes `timestamp` (milliseconds) and `sign` as query parameters:
  sign = urlencode(base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}"))). It answers
  HTTP 200 with {"errcode": 0, "errmsg": "ok"}; errcode 130101 means "too many messages" (about
  20 a minute per robot).
- Feishu/Lark custom bot: an `interactive` card (a header, lark_md text, one button). With
  signing on, the body holds `timestamp` (seconds) and `sign` = base64(HMAC-SHA256(
  key="{timestamp}\\n{secret}", msg=b"")). It answers HTTP 200 with {"code": 0, ...}; code 9499
  (and 11232) means too many requests.
- WeCom group robot: a `markdown` message with a link. It answers {"errcode": 0, ...}; 45009 is
  its rate limit (20 a minute per robot).
- Slack incoming webhook: Block Kit (a header, mrkdwn text, one button) and a plain `text`
  fallback. It answers HTTP 200 with the body "ok"; HTTP 429 with Retry-After when rate limited.
- The generic JSON webhook: the dashboard's own payload (plain fields); any 2xx is delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import quote_plus

from django.views.decorators.debug import sensitive_variables

from dashboard.models import AlertChannel

Kind = AlertChannel.Kind

# Messages a minute one robot takes, as each platform documents it; the dashboard keeps below
# them by queueing (dashboard.services.alert_delivery). None: no limit known.
RATE_PER_MINUTE: dict[str, int | None] = {
    Kind.DINGTALK: 20,
    Kind.FEISHU: 100,
    Kind.WECOM: 20,
    Kind.SLACK: 60,
    Kind.WEBHOOK: None,
}
# Codes in a 200 answer that mean "too many, slow down" rather than "refused".
RATE_LIMIT_CODES: dict[str, frozenset[int]] = {
    Kind.DINGTALK: frozenset({130101}),
    Kind.FEISHU: frozenset({9499, 11232}),
    Kind.WECOM: frozenset({45009}),
}
# How long to wait after a rate-limit answer that does not say (seconds).
RATE_LIMIT_PAUSE = 60.0


@dataclass(frozen=True)
class ChatMessage:
    """One alert in one language, ready to format: `link` is an absolute URL or empty."""

    kind: str  # the alert's kind (Notification.Kind), or "test"
    subject: str
    body: str
    link: str
    link_label: str
    payload: dict  # the generic webhook's plain fields


@dataclass(frozen=True)
class Request:
    url: str
    body: dict


@dataclass(frozen=True)
class Answer:
    ok: bool
    result: str  # "ok" or why not, short (recorded in the delivery history)
    rate_limited: bool = False
    retry_after: float | None = None  # seconds, when the platform said


# --- Signing ------------------------------------------------------------------------------------


@sensitive_variables("secret", "key")
def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign` query parameter, URL-encoded as its documentation does it."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


@sensitive_variables("secret", "key")
def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's `sign` body field: the HMAC's key is the string to sign, its message empty."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


# --- Formats ------------------------------------------------------------------------------------


def _markdown_text(message: ChatMessage) -> str:
    return f"### {message.subject}\n\n" + message.body.replace("\n", "\n\n")


def _dingtalk(message: ChatMessage) -> dict:
    if message.link:
        return {
            "msgtype": "actionCard",
            "actionCard": {
                "title": message.subject,
                "text": _markdown_text(message),
                "btnOrientation": "0",
                "singleTitle": message.link_label,
                "singleURL": message.link,
            },
        }
    return {
        "msgtype": "markdown",
        "markdown": {"title": message.subject, "text": _markdown_text(message)},
    }


def _feishu(message: ChatMessage) -> dict:
    elements: list[dict] = [{"tag": "div", "text": {"tag": "lark_md", "content": message.body}}]
    if message.link:
        elements.append(
            {
                "tag": "action",
                "actions": [
                    {
                        "tag": "button",
                        "text": {"tag": "plain_text", "content": message.link_label},
                        "type": "primary",
                        "url": message.link,
                    }
                ],
            }
        )
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": message.subject},
                "template": "blue" if message.kind == "test" else "red",
            },
            "elements": elements,
        },
    }


def _wecom(message: ChatMessage) -> dict:
    text = f"**{message.subject}**\n{message.body}"
    if message.link:
        text += f"\n[{message.link_label}]({message.link})"
    return {"msgtype": "markdown", "markdown": {"content": text}}


def _slack_escaped(text: str) -> str:
    # Slack's mrkdwn reads <...> as links and mentions: the provider's host names are not trusted.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack(message: ChatMessage) -> dict:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escaped(message.body)}},
    ]
    if message.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": message.link_label},
                        "url": message.link,
                    }
                ],
            }
        )
    return {"text": _slack_escaped(message.subject), "blocks": blocks}


_FORMATS = {
    Kind.DINGTALK: _dingtalk,
    Kind.FEISHU: _feishu,
    Kind.WECOM: _wecom,
    Kind.SLACK: _slack,
    Kind.WEBHOOK: lambda message: message.payload,
}


@sensitive_variables("secret", "key", "url")
def build_request(kind: str, url: str, secret: str, message: ChatMessage, now: float) -> Request:
    """The URL and JSON body to POST for `message`, signed when the channel has a secret
    (`now`: the time in epoch seconds)."""
    body = _FORMATS[kind](message)
    if secret and kind == Kind.DINGTALK:
        timestamp = int(now * 1000)
        joiner = "&" if "?" in url else "?"
        url = f"{url}{joiner}timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"
    elif secret and kind == Kind.FEISHU:
        timestamp = int(now)
        body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
    return Request(url=url, body=body)


# --- Answers ------------------------------------------------------------------------------------


def _retry_after(headers) -> float | None:
    try:
        seconds = float(headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds < 3600 else None


def read_answer(kind: str, status: int, headers, content: bytes) -> Answer:
    """Whether the platform took the message. An error inside an HTTP 200 is a failure."""
    if status == 429:
        return Answer(False, "HTTP 429", rate_limited=True, retry_after=_retry_after(headers))
    if not 200 <= status < 300:
        return Answer(False, f"HTTP {status}")
    if kind == Kind.WEBHOOK:
        return Answer(True, "ok")
    text = content.decode("utf-8", "replace").strip()
    if kind == Kind.SLACK:
        return Answer(True, "ok") if text == "ok" else Answer(False, f"Slack: {text[:200]}")
    try:
        answer = json.loads(text)
    except ValueError:
        return Answer(False, "the answer is not JSON")
    if not isinstance(answer, dict):
        return Answer(False, "the answer is not a JSON object")
    if kind == Kind.FEISHU:
        code = answer.get("code", answer.get("StatusCode"))
        said = answer.get("msg", answer.get("StatusMessage", ""))
        name = "code"
    else:
        code, said, name = answer.get("errcode"), answer.get("errmsg", ""), "errcode"
    if code == 0:
        return Answer(True, "ok")
    result = f"{name} {code}: {str(said)[:200]}"
    limited = isinstance(code, int) and code in RATE_LIMIT_CODES.get(kind, frozenset())
    return Answer(False, result, rate_limited=limited)
