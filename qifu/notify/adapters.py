"""Channel adapters: how one OutboxMessage leaves the building.

An adapter has `channel`, `is_configured()`, `address_for(user)` and `send(message) -> external id`,
raising DeliveryError when the service refuses. Which class serves a channel is set in
`settings.QIFU_NOTIFY_ADAPTERS`; a channel whose adapter is missing or not configured gets no rows.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.utils.module_loading import import_string

logger = logging.getLogger("qifu.notify")

HTTP_TIMEOUT = 10


class DeliveryError(Exception):
    """The service did not take the message; the deliverer retries later."""


class Adapter(Protocol):
    channel: str

    def is_configured(self) -> bool: ...

    def address_for(self, user) -> str: ...

    def send(self, message) -> str: ...


_warned: set[str] = set()


def get(channel: str) -> Adapter | None:
    """The configured adapter for `channel`, or None (logged once per channel and process)."""
    path = getattr(settings, "QIFU_NOTIFY_ADAPTERS", {}).get(channel)
    adapter = import_string(path)() if path else None
    if adapter is None or not adapter.is_configured():
        if channel not in _warned:
            _warned.add(channel)
            logger.info("notification channel %s is not configured: nothing is sent through it", channel)
        return None
    return adapter


# --- email ----------------------------------------------------------------------------------


class EmailAdapter:
    """Django's default mailer (SMTP when QIFU_SMTP_HOST is set, else the console)."""

    channel = "email"

    def is_configured(self) -> bool:
        return True  # Django always has a default mailer (the console unless QIFU_SMTP_HOST is set)

    def address_for(self, user) -> str:
        return user.email or ""

    def send(self, message) -> str:
        msgid = make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "qifu")
        email = EmailMessage(
            subject=message.subject, body=message.body or message.subject, to=[message.address],
            headers={"Message-ID": msgid},
        )
        try:
            email.send(fail_silently=False)
        except Exception as exc:  # smtplib and socket errors alike
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        return msgid


# --- HTTP helpers ---------------------------------------------------------------------------


def _http_json(method: str, url: str, body: bytes | None = None, content_type: str = "") -> dict[str, Any]:
    """Send a request and decode its JSON answer, whatever the HTTP status."""
    request = urllib.request.Request(url, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raw = exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"cannot reach {urllib.parse.urlsplit(url).netloc}: {exc}") from exc
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise DeliveryError(f"not a JSON answer: {raw[:200]!r}") from exc


# --- SMS: Alibaba Cloud SendSms (RPC API, signature version 1.0) ------------------------------


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud's RPC signature wants it (space → %20, ~ kept)."""
    return urllib.parse.quote(value, safe="-_.~")


def rpc_signature(method: str, params: dict[str, str], secret: str) -> str:
    """Base64(HMAC-SHA1(secret + "&", METHOD & %2F & encode(sorted, encoded query)))."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


SMS_PARAM_MAX = 35  # characters a template variable may carry


class AliyunSmsAdapter:
    """SendSms on Alibaba Cloud's SMS service (dysmsapi), or anything speaking its protocol.

    The template (QIFU_SMS_TEMPLATE_CODE) receives the variables `subject` and `body`.
    """

    channel = "sms"

    def __init__(self, config: dict[str, str] | None = None):
        self.config = config if config is not None else settings.QIFU_SMS

    def is_configured(self) -> bool:
        keys = ("endpoint", "access_key_id", "access_key_secret", "sign_name", "template_code")
        return all(self.config.get(k) for k in keys)

    def address_for(self, user) -> str:
        return (user.phone or "").strip()

    def signed_params(self, message) -> dict[str, str]:
        params = {
            "AccessKeyId": self.config["access_key_id"],
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.config.get("region_id") or "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            "PhoneNumbers": message.address,
            "SignName": self.config["sign_name"],
            "TemplateCode": self.config["template_code"],
            "TemplateParam": json.dumps(
                {"subject": message.subject[:SMS_PARAM_MAX], "body": (message.body or "")[:SMS_PARAM_MAX]},
                ensure_ascii=False,
            ),
            "OutId": str(message.pk),
        }
        params["Signature"] = rpc_signature("POST", params, self.config["access_key_secret"])
        return params

    def send(self, message) -> str:
        body = urllib.parse.urlencode(self.signed_params(message), quote_via=urllib.parse.quote).encode()
        answer = _http_json("POST", self.config["endpoint"], body, "application/x-www-form-urlencoded")
        if answer.get("Code") != "OK":
            raise DeliveryError(f"{answer.get('Code')}: {answer.get('Message')}")
        return str(answer.get("BizId", ""))


# --- 浙政钉 work notifications (DingTalk-style open API) --------------------------------------


_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()
TOKEN_MARGIN = 300  # renew this many seconds before the token expires
TOKEN_ERRCODES = {40001, 40014, 42001}  # invalid or expired access_token


class DingTalkAdapter:
    """Work notifications: GET /gettoken, then POST /topapi/message/corpconversation/asyncsend_v2."""

    channel = "dingtalk"

    def __init__(self, config: dict[str, str] | None = None):
        self.config = config if config is not None else settings.QIFU_DINGTALK

    def is_configured(self) -> bool:
        return all(self.config.get(k) for k in ("base_url", "appkey", "appsecret", "agent_id"))

    def address_for(self, user) -> str:
        identity = getattr(user, "dingtalk", None) if user.pk else None
        return identity.userid if identity else ""

    def _url(self, path: str, **query: str) -> str:
        return f"{self.config['base_url'].rstrip('/')}{path}?{urllib.parse.urlencode(query)}"

    def access_token(self, renew: bool = False) -> str:
        key = (self.config["base_url"], self.config["appkey"])
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not renew and cached[1] > time.monotonic():
                return cached[0]
            answer = _http_json(
                "GET", self._url("/gettoken", appkey=self.config["appkey"], appsecret=self.config["appsecret"])
            )
            if answer.get("errcode") != 0 or not answer.get("access_token"):
                raise DeliveryError(f"gettoken: {answer.get('errcode')} {answer.get('errmsg')}")
            expires_in = int(answer.get("expires_in", 7200))
            _tokens[key] = (answer["access_token"], time.monotonic() + max(expires_in - TOKEN_MARGIN, 0))
            return answer["access_token"]

    def _post(self, token: str, message) -> dict[str, Any]:
        payload = {
            "agent_id": int(self.config["agent_id"]),
            "userid_list": message.address,
            "msg": {"msgtype": "text", "text": {"content": _text(message)}},
        }
        url = self._url("/topapi/message/corpconversation/asyncsend_v2", access_token=token)
        return _http_json("POST", url, json.dumps(payload, ensure_ascii=False).encode(), "application/json")

    def send(self, message) -> str:
        answer = self._post(self.access_token(), message)
        if answer.get("errcode") in TOKEN_ERRCODES:  # revoked or expired early: renew once
            answer = self._post(self.access_token(renew=True), message)
        if answer.get("errcode") != 0:
            raise DeliveryError(f"asyncsend_v2: {answer.get('errcode')} {answer.get('errmsg')}")
        return str(answer.get("task_id", ""))


def _text(message) -> str:
    return f"{message.subject}\n{message.body}".strip()
