"""Alibaba Cloud SMS (dysmsapi, SendSms) as the real service checks it.

It recomputes the RPC signature (version 1.0, HMAC-SHA1) from the received parameters, rejects
unknown keys, stale timestamps, reused nonces and missing parameters, and checks the sign name,
template and template variables. `fail_next(n)` makes the next n valid requests fail as the
service does when it throttles.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import urllib.parse
import uuid

from .base import FakeService

COMMON = ("AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce", "SignatureVersion",
          "Timestamp", "Version", "Signature")
SEND_SMS = ("PhoneNumbers", "SignName", "TemplateCode")


def _encode(s: str) -> str:
    # RFC 3986 unreserved characters stay; everything else is %XX of its UTF-8 bytes.
    return "".join(
        chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "-_.~") else f"%{b:02X}"
        for b in s.encode("utf-8")
    )


def expected_signature(method: str, params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    string_to_sign = method + "&" + _encode("/") + "&" + _encode(query)
    mac = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


class AliyunSmsFake(FakeService):
    def __init__(self, access_key_id: str = "LTAItestkey", access_key_secret: str = "test-secret",
                 sign_name: str = "企服中心", template_code: str = "SMS_123456789",
                 template_vars: tuple[str, ...] = ("subject", "body")) -> None:
        super().__init__()
        self.keys = {access_key_id: access_key_secret}
        self.sign_name, self.template_code, self.template_vars = sign_name, template_code, template_vars
        self.nonces: set[str] = set()
        self.sent: list[dict] = []
        self.rejected: list[dict] = []
        self.failures_left = 0
        self.failure_code = "isv.BUSINESS_LIMIT_CONTROL"

    def settings(self, **overrides) -> dict[str, str]:
        key, secret = next(iter(self.keys.items()))
        config = {"endpoint": self.url + "/", "access_key_id": key, "access_key_secret": secret,
                  "sign_name": self.sign_name, "template_code": self.template_code, "region_id": "cn-hangzhou"}
        config.update(overrides)
        return config

    def fail_next(self, n: int, code: str = "isv.BUSINESS_LIMIT_CONTROL") -> None:
        self.failures_left, self.failure_code = n, code

    def _error(self, status: int, code: str, message: str, params: dict) -> tuple[int, dict]:
        self.rejected.append({"code": code, "params": params})
        return status, {"RequestId": str(uuid.uuid4()), "Code": code, "Message": message}

    def handle(self, method, path, query, body, headers):
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if method == "POST":
            if not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                return self._error(400, "InvalidParameter", "form-encoded body expected", params)
            params.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if path != "/":
            return self._error(404, "InvalidAction.NotFound", f"no such path {path}", params)
        for name in COMMON:
            if not params.get(name):
                return self._error(400, f"Missing{name}", f"{name} is mandatory for this action.", params)
        secret = self.keys.get(params["AccessKeyId"])
        if secret is None:
            return self._error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", params)
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return self._error(400, "InvalidSignatureMethod", "Specified signature method is not supported.", params)
        if not hmac.compare_digest(params["Signature"], expected_signature(method, params, secret)):
            return self._error(400, "SignatureDoesNotMatch",
                               "Specified signature is not matched with our calculation.", params)
        try:
            stamp = datetime.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
        except ValueError:
            return self._error(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.", params)
        if abs(datetime.datetime.now(datetime.UTC) - stamp) > datetime.timedelta(minutes=15):
            return self._error(400, "InvalidTimeStamp.Expired",
                               "Specified time stamp or date value is expired.", params)
        if params["SignatureNonce"] in self.nonces:
            return self._error(400, "SignatureNonceUsed", "Specified signature nonce was used already.", params)
        self.nonces.add(params["SignatureNonce"])
        if params["Action"] != "SendSms" or params["Version"] != "2017-05-25" or params["Format"] != "JSON":
            return self._error(400, "InvalidAction.NotFound", "Specified api is not found.", params)
        return self._send_sms(params)

    def _send_sms(self, params: dict) -> tuple[int, dict]:
        for name in SEND_SMS:
            if not params.get(name):
                return self._error(400, "MissingParameter", f"{name} is mandatory for this action.", params)
        if not all(re.fullmatch(r"(\+?86)?1\d{10}", p) for p in params["PhoneNumbers"].split(",")):
            return self._error(200, "isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile number", params)
        if params["SignName"] != self.sign_name:
            return self._error(200, "isv.SMS_SIGNATURE_ILLEGAL", "unknown sign name", params)
        if params["TemplateCode"] != self.template_code:
            return self._error(200, "isv.SMS_TEMPLATE_ILLEGAL", "unknown template", params)
        try:
            variables = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._error(200, "isv.INVALID_JSON_PARAM", "TemplateParam is not JSON", params)
        if not isinstance(variables, dict) or any(v not in variables for v in self.template_vars):
            return self._error(200, "isv.TEMPLATE_MISSING_PARAMETERS", "template variables missing", params)
        if self.failures_left > 0:
            self.failures_left -= 1
            return self._error(200, self.failure_code, "simulated failure", params)
        biz_id = f"{len(self.sent) + 1:06d}^{uuid.uuid4().int % 10**10}"
        self.sent.append({"phone": params["PhoneNumbers"], "variables": variables, "out_id": params.get("OutId"),
                          "biz_id": biz_id})
        return 200, {"RequestId": str(uuid.uuid4()), "Code": "OK", "Message": "OK", "BizId": biz_id}
