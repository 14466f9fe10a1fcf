"""浙政钉 / DingTalk work notifications as the open API checks them.

GET /gettoken?appkey=&appsecret= issues an access_token valid for `token_ttl` seconds;
POST /topapi/message/corpconversation/asyncsend_v2?access_token= checks the token, the agent id
and the message shape (userid_list is a comma-separated string; msg.msgtype "text" with
text.content). `expire_tokens()` makes every issued token expire early.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid

from .base import FakeService

ASYNCSEND = "/topapi/message/corpconversation/asyncsend_v2"


class DingTalkFake(FakeService):
    def __init__(self, appkey: str = "ding-test-key", appsecret: str = "ding-test-secret", agent_id: int = 1234567,
                 token_ttl: int = 7200) -> None:
        super().__init__()
        self.appkey, self.appsecret, self.agent_id, self.token_ttl = appkey, appsecret, agent_id, token_ttl
        self.tokens: dict[str, float] = {}
        self.token_requests = 0
        self.sent: list[dict] = []
        self.rejected: list[dict] = []
        self.failures_left = 0

    def settings(self, **overrides) -> dict[str, str]:
        config = {"base_url": self.url, "appkey": self.appkey, "appsecret": self.appsecret,
                  "agent_id": str(self.agent_id)}
        config.update(overrides)
        return config

    def expire_tokens(self) -> None:
        self.tokens = {t: 0.0 for t in self.tokens}

    def fail_next(self, n: int) -> None:
        self.failures_left = n

    def _error(self, errcode: int, errmsg: str, **seen) -> tuple[int, dict]:
        self.rejected.append({"errcode": errcode, **seen})
        return 200, {"errcode": errcode, "errmsg": errmsg, "request_id": uuid.uuid4().hex}

    def handle(self, method, path, query, body, headers):
        q = dict(urllib.parse.parse_qsl(query))
        if path == "/gettoken" and method == "GET":
            return self._gettoken(q)
        if path == ASYNCSEND and method == "POST":
            return self._asyncsend(q, body, headers)
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _gettoken(self, q: dict) -> tuple[int, dict]:
        self.token_requests += 1
        if q.get("appkey") != self.appkey or q.get("appsecret") != self.appsecret:
            return self._error(40089, "不合法的appkey或appsecret")
        token = uuid.uuid4().hex
        self.tokens[token] = time.monotonic() + self.token_ttl
        return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl}

    def _asyncsend(self, q: dict, body: bytes, headers) -> tuple[int, dict]:
        token = q.get("access_token", "")
        if token not in self.tokens:
            return self._error(40014, "不合法的access_token")
        if self.tokens[token] <= time.monotonic():
            return self._error(42001, "access_token超时")
        if not headers.get("Content-Type", "").startswith("application/json"):
            return self._error(40035, "请求体不是JSON")
        try:
            payload = json.loads(body.decode("utf-8"))
        except ValueError:
            return self._error(40035, "请求体不是JSON")
        problem = self._check_message(payload)
        if problem:
            return self._error(40035, problem, payload=payload)
        if self.failures_left > 0:
            self.failures_left -= 1
            return self._error(90018, "simulated failure", payload=payload)
        task_id = 100000 + len(self.sent) + 1
        self.sent.append({"userids": payload["userid_list"].split(","), "content": payload["msg"]["text"]["content"],
                          "task_id": task_id})
        return 200, {"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": uuid.uuid4().hex}

    def _check_message(self, payload) -> str:
        if not isinstance(payload, dict):
            return "body must be an object"
        if payload.get("agent_id") != self.agent_id:
            return "agent_id does not match the app"
        userids = payload.get("userid_list")
        if not isinstance(userids, str) or not userids or any(not u for u in userids.split(",")):
            return "userid_list must be a comma-separated string"
        msg = payload.get("msg")
        if not isinstance(msg, dict) or msg.get("msgtype") != "text":
            return "msg.msgtype must be text"
        content = (msg.get("text") or {}).get("content")
        if not isinstance(content, str) or not content.strip():
            return "msg.text.content is required"
        return ""
