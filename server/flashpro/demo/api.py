"""The offline API: DeepSeek's HTTP endpoints on 127.0.0.1, answered by the offline model.

`OfflineApi` serves `GET /models`, `POST /beta/completions` (FIM) and `POST /chat/completions`
(also under `/v1` and `/beta`, as DeepSeek accepts), checks the bearer key, and answers in the
shapes the `openai` SDK parses: JSON bodies, or SSE streams (`data: {...}` chunks split at
words, a usage chunk when `stream_options.include_usage`, then `data: [DONE]`). `latency_s`
waits before the first byte and `chunk_delay_s` between chunks, so it feels like a model.
Errors use DeepSeek's body shape (`{"error": {"message", "type", ...}}`).

It is a real HTTP server in a daemon thread (`start()` / `stop()`, or `with`); `flashpro demo
--serve-api` runs one in the foreground for an editor to use.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flashpro.demo.model import DEFAULT_MODELS, OfflineModel, Reply

__all__ = ["OfflineApi", "new_key"]

_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "invalid_request_error",
}


def new_key() -> str:
    """A random key for one offline API (it only has to match between server and client)."""
    return "sk-offline-" + secrets.token_hex(8)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: OfflineApi) -> None:
        self.api = api
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        return

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.api.handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self.server.api.handle(self, "POST")


def _route(method: str, path: str) -> str | None:
    path = path.split("?", 1)[0].rstrip("/")
    bare = re.sub(r"^/(v1|beta)(?=/)", "", path)
    if method == "GET" and bare == "/models":
        return "models"
    if method == "POST" and bare == "/chat/completions":
        return "chat"
    if method == "POST" and path == "/beta/completions":
        return "fim"
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+", text) or [""]


class OfflineApi:
    """The offline DeepSeek-compatible API; see the module docstring."""

    def __init__(
        self,
        model: OfflineModel | None = None,
        *,
        key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        chunk_delay_s: float = 0.0,
        models: tuple[str, ...] = DEFAULT_MODELS,
    ) -> None:
        self.model = model or OfflineModel()
        self.key = key or new_key()
        self.host, self.port = host, port
        self.latency_s = latency_s
        self.chunk_delay_s = chunk_delay_s
        self.models = models
        self.calls: dict[str, int] = {"fim": 0, "chat": 0, "models": 0}
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL (DEEPSEEK_BASE_URL): http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    def bind(self) -> OfflineApi:
        """Bind the socket (the port is known afterwards) without serving yet."""
        if self._httpd is None:
            self._httpd = _Server((self.host, self.port), self)
            self.port = int(self._httpd.server_address[1])
        return self

    def start(self) -> OfflineApi:
        """Bind and serve in a daemon thread; returns self."""
        httpd = self.bind()._httpd
        assert httpd is not None
        if self._thread is None:
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="flashpro-offline-api"
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (KeyboardInterrupt propagates to the caller)."""
        httpd = self.bind()._httpd
        assert httpd is not None
        try:
            httpd.serve_forever(poll_interval=0.1)
        finally:
            httpd.server_close()
            self._httpd = None

    def stop(self) -> None:
        """Stop serving and close the socket."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        if self._thread is not None:
            httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        httpd.server_close()

    def __enter__(self) -> OfflineApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests --------------------------------------------------------------------------
    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        """Answer one request (called on the server's handler threads)."""
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        route = _route(method, handler.path)
        auth = handler.headers.get("Authorization") or ""
        try:
            if auth != f"Bearer {self.key}":
                self._error(handler, 401, "Authentication Fails, Your api key is invalid")
                return
            if route is None:
                self._error(handler, 404, f"Not Found: {method} {handler.path}")
                return
            with self._lock:
                self.calls[route] += 1
            if route == "models":
                data = [{"id": m, "object": "model", "owned_by": "flashpro-offline"} for m in self.models]
                self._json(handler, 200, {"object": "list", "data": data})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                self._error(handler, 400, "Invalid request: the body is not a JSON object")
                return
            if body.get("model") not in self.models:
                self._error(handler, 400, f"Model Not Exist: {body.get('model')!r}")
                return
            self._answer(handler, route, body)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client went away (a cancelled completion): nothing to finish

    def _answer(self, handler: BaseHTTPRequestHandler, route: str, body: dict[str, Any]) -> None:
        max_tokens = int(body.get("max_tokens") or 4096)
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else [str(s) for s in stop]
        if route == "fim":
            reply = self.model.fim(str(body.get("prompt") or ""), str(body.get("suffix") or ""), stop, max_tokens)
        else:
            thinking = (body.get("thinking") or {}).get("type", "enabled") != "disabled"
            json_output = (body.get("response_format") or {}).get("type") == "json_object"
            reply = self.model.chat(
                body.get("messages") or [], thinking=thinking, json_output=json_output, max_tokens=max_tokens
            )
        if self.latency_s:
            time.sleep(self.latency_s)
        envelope = {
            "id": str(uuid.uuid4()),
            "created": int(time.time()),
            "model": str(body["model"]),
            "system_fingerprint": "fp_flashpro_offline",
        }
        if not body.get("stream"):
            self._json(handler, 200, _whole(route, envelope, reply))
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for index, chunk in enumerate(_chunks(route, envelope, reply, include_usage)):
            if index and self.chunk_delay_s:
                time.sleep(self.chunk_delay_s)
            handler.wfile.write(b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n")
            handler.wfile.flush()
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()
        handler.close_connection = True

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, message: str) -> None:
        kind = _ERRORS.get(status, "server_error")
        error = {"message": message, "type": kind, "param": None, "code": "invalid_request_error"}
        self._json(handler, status, {"error": error})


def _whole(route: str, envelope: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """A non-stream body: `text_completion` or `chat.completion`."""
    if route == "fim":
        choice = {"index": 0, "text": reply.text, "logprobs": None, "finish_reason": reply.finish_reason}
        return {**envelope, "object": "text_completion", "choices": [choice], "usage": reply.usage}
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.reasoning is not None:
        message["reasoning_content"] = reply.reasoning
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}
    return {**envelope, "object": "chat.completion", "choices": [choice], "usage": reply.usage}


def _chunks(route: str, envelope: dict[str, Any], reply: Reply, include_usage: bool) -> Iterator[dict[str, Any]]:
    """The stream's chunks (before `[DONE]`), the usage-only chunk last when asked for."""
    if route == "fim":
        base = {**envelope, "object": "text_completion"}
        pieces = _words(reply.text)
        for index, piece in enumerate(pieces):
            finish = reply.finish_reason if index == len(pieces) - 1 else None
            yield {**base, "choices": [{"index": 0, "text": piece, "logprobs": None, "finish_reason": finish}]}
    else:
        base = {**envelope, "object": "chat.completion.chunk"}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        yield chunk({"role": "assistant", "content": ""})
        if reply.reasoning is not None:
            for piece in _words(reply.reasoning):
                yield chunk({"content": None, "reasoning_content": piece})
        for piece in _words(reply.text):
            if piece:
                yield chunk({"content": piece})
        yield chunk({"content": ""}, reply.finish_reason)
    if include_usage:
        yield {**base, "choices": [], "usage": reply.usage}
