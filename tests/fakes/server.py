"""The fake DeepSeek API server: `FakeDeepSeek` and its records.

Owns the HTTP endpoints (`/beta/completions` FIM, `/chat/completions`, `/models`, with the
`/v1` and `/beta` prefixes DeepSeek accepts), bearer-key checking, per-account prompt caches
(`cache_model.PromptCache`), scripted answers (`model.Script`), failure / latency / hang
injection (broken responses: `faults`), and the request log with disconnect detection plus
helpers to wait on it. A real `ThreadingHTTPServer` on 127.0.0.1 in a background thread;
`deepseek.py` adds the CLI.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes import faults, wire
from tests.fakes.cache_model import PromptCache
from tests.fakes.model import Answer, Responder, Script
from tests.fakes.replies import Reply, chat_reply, fim_reply
from tests.fakes.transport import Exchange, ServerStopping
from tests.fakes.validate import FIM_MAX_TOKENS, ApiError, parse_chat, parse_fim

__all__ = ["DEFAULT_KEYS", "DEFAULT_MODELS", "FakeDeepSeek", "RequestRecord"]

DEFAULT_MODELS = ("deepseek-v4-flash", "deepseek-v4-pro", "deepseek-flash")
DEFAULT_KEYS = ("sk-test",)
DEFAULT_REASONING = "The user wants a short answer. I will give it."
Answers = str | Answer | Iterable[str | Answer] | Responder | None


@dataclass(eq=False)
class RequestRecord:
    """One request as the fake saw it. Live: fields change until `done` (read under no lock;
    use the `wait_*` helpers to wait for a state)."""

    id: int
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased header names; `authorization` is removed (its value is never stored)."""
    auth_present: bool
    auth_valid: bool
    account: str | None
    """A short hash of a valid key (the per-account cache id); None if the key is missing/wrong."""
    body: Any
    """Parsed JSON body (None for GET or unparsable JSON)."""
    endpoint: str = "unknown"
    """"fim", "chat", "models" or "unknown"."""
    stream: bool = False
    status: int | None = None
    usage: dict[str, Any] | None = None
    """The `usage` block of the response (set when the answer is computed, before latency)."""
    text: str | None = None
    """The answer text returned (FIM text or chat content)."""
    reasoning: str | None = None
    finish_reason: str | None = None
    error: dict[str, Any] | None = None
    """The error body returned, if any."""
    injected: bool = False
    """The status came from `fail_next`."""
    fault: str | None = None
    """The fault knob that broke this response, one of `faults.FAULTS`."""
    disconnected: bool = False
    """The CLIENT closed the connection before the response was complete."""
    finished: bool = False
    """The whole response was written."""
    chunks_sent: int = 0
    delay_s: float | None = None
    """The wait the fake chose before the first byte (latency model; math.inf when hanging)."""
    started_at: float = field(default_factory=time.monotonic)
    completed_at: float | None = None

    @property
    def done(self) -> bool:
        return self.completed_at is not None

    @property
    def hit_tokens(self) -> int:
        return int((self.usage or {}).get("prompt_cache_hit_tokens", 0))

    @property
    def miss_tokens(self) -> int:
        return int((self.usage or {}).get("prompt_cache_miss_tokens", 0))


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    path: str | None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], fake: FakeDeepSeek) -> None:
        self.fake = fake
        self.connections: set[Any] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that resets its connection (as a client abandoning a stream may) is no error
        of the fake's: no traceback on stderr for it."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small SSE chunks must not wait for delayed ACKs
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        return

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.fake._handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self.server.fake._handle(self, "POST")


def default_fim_answer(request: dict[str, Any]) -> str:
    """The FIM answer when nothing is scripted."""
    return "return 42\n"


def default_chat_answer(request: dict[str, Any]) -> str:
    """The chat answer when nothing is scripted ('{"answer": "ok"}' in JSON mode)."""
    response_format = request.get("response_format") or {}
    return '{"answer": "ok"}' if response_format.get("type") == "json_object" else "OK"


def _route(method: str, path: str) -> tuple[str, bool] | None:
    """(endpoint, beta) for a request path, None if DeepSeek has no such endpoint."""
    path = path.split("?", 1)[0].rstrip("/")
    beta = path.startswith("/beta/")
    bare = path.removeprefix("/beta").removeprefix("/v1")
    if method == "GET" and bare == "/models":
        return "models", beta
    if method == "POST" and bare == "/chat/completions":
        return "chat", beta
    if method == "POST" and path == "/beta/completions":
        return "fim", True
    return None


class FakeDeepSeek:
    """A fake DeepSeek API on 127.0.0.1. Start with `start()` or `with FakeDeepSeek() as s:`.

    Mutable knobs (read per request): `latency_s`, `latency_per_miss_token_s`, `chunk_delay_s`,
    `keepalive_interval_s`, `hang`, `hang_after_chunks`, the broken-response knobs
    (`malformed_after_chunks`, `end_after_chunks`, `omit_usage`, `omit_done`,
    `trickle_after_chunks` with `trickle_interval_s`, `reset_after_chunks`, `garbage_body`),
    `cache_enabled`, `api_keys`, `models`, `thinking_default`, `default_reasoning`. Latency,
    hangs, keep-alives and broken responses apply to FIM and chat completions only; `/models`
    and errors answer at once. The `cache_*` settings apply to account caches created
    afterwards (set them in the constructor).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Iterable[str] = DEFAULT_KEYS,
        models: Iterable[str] = DEFAULT_MODELS,
        cache_enabled: bool = True,
        cache_min_unit: int = 64,
        cache_interval: int | None = 128,
        cache_store_delay_s: float = 0.0,
        latency_s: float = 0.0,
        latency_per_miss_token_s: float = 0.0,
        chunk_delay_s: float = 0.0,
        keepalive_interval_s: float | None = None,
        thinking_default: bool = True,
        fim_max_tokens: int = FIM_MAX_TOKENS,
    ) -> None:
        self.host, self.port = host, port
        self.api_keys: set[str] = set(api_keys)
        self.models: list[str] = list(models)
        self.cache_enabled = cache_enabled
        self.cache_min_unit = cache_min_unit
        self.cache_interval = cache_interval
        self.cache_store_delay_s = cache_store_delay_s
        self.latency_s = latency_s
        """Seconds before the first byte (headers) of a completion response."""
        self.latency_per_miss_token_s = latency_per_miss_token_s
        """Extra time to first byte per prompt-cache-miss token."""
        self.chunk_delay_s = chunk_delay_s
        """Seconds between stream chunks."""
        self.keepalive_interval_s = keepalive_interval_s
        """If set, send headers at once and blank lines / `: keep-alive` while waiting."""
        self.hang = False
        """Never answer completions (until the client leaves or the server stops)."""
        self.hang_after_chunks: int | None = None
        """Streams: send this many chunks, then hang (sending keep-alives, if they are on)."""
        self.malformed_after_chunks: int | None = None
        """Streams: send this many events, then `data: {"choi` in place of the next, then the rest."""
        self.end_after_chunks: int | None = None
        """Streams: send this many events, then end the body cleanly (no usage, no [DONE])."""
        self.omit_usage = False
        """Streams: leave the usage chunk out (even when `include_usage` asked for it)."""
        self.omit_done = False
        """Streams: leave the final `data: [DONE]` out."""
        self.trickle_after_chunks: int | None = None
        """Streams: send this many events at the normal pace, then the rest one byte at a time."""
        self.trickle_interval_s = 0.05
        """Seconds between trickled bytes."""
        self.reset_after_chunks: int | None = None
        """Send this many stream events (0: nothing, not even headers), then reset the connection."""
        self.garbage_body: bytes | None = None
        """Answer completions (stream or not) with 200 and these bytes as an application/json body."""
        self.thinking_default = thinking_default
        self.fim_max_tokens = fim_max_tokens
        self.default_reasoning = DEFAULT_REASONING
        self._fim_script = Script(default_fim_answer)
        self._chat_script = Script(default_chat_answer)
        self._changed = threading.Condition(threading.RLock())
        self._records: list[RequestRecord] = []
        self._failures: deque[_Failure] = deque()
        self._caches: dict[str, PromptCache] = {}
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeDeepSeek:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
            name=f"fake-deepseek:{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end hanging requests and close every open connection."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with httpd.connections_lock:
            connections = list(httpd.connections)
        for conn in connections:
            try:
                conn.shutdown(2)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._changed:  # let interrupted handlers close their records
            self._changed.wait_for(lambda: all(r.done for r in self._records), timeout=2.0)

    def __enter__(self) -> FakeDeepSeek:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until KeyboardInterrupt (the CLI)."""
        self.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def url(self) -> str:
        """Base URL for chat and models, e.g. http://127.0.0.1:43121 (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def beta_url(self) -> str:
        """Beta base URL for FIM: `url + "/beta"`."""
        return self.url + "/beta"

    # -- scripting and injection ---------------------------------------------------------------

    def script_fim(self, answers: Answers) -> None:
        """Queue FIM answers (str/Answer or a list of them) or set a `callable(body) -> str|Answer`
        used after the queue runs dry. None clears both."""
        self._fim_script.add(answers)

    def script_chat(self, answers: Answers) -> None:
        """Same as `script_fim` for chat (Answer.reasoning sets `reasoning_content`)."""
        self._chat_script.add(answers)

    def fail_next(
        self,
        status: int,
        n: int = 1,
        body: dict[str, Any] | None = None,
        *,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `n` requests (whose path contains `path`, if given) with `status`
        and a DeepSeek-like error body (or `body`), before auth and without latency."""
        failure = _Failure(status, body or wire.error_body(status), dict(headers or {}), path)
        with self._changed:
            self._failures.extend([failure] * n)

    def clear_cache(self) -> None:
        """Empty every account's prompt cache."""
        with self._changed:
            for cache in self._caches.values():
                cache.clear()

    def cache_for(self, api_key: str = DEFAULT_KEYS[0]) -> PromptCache:
        """The prompt cache of the account behind `api_key` (created on first use)."""
        return self._cache(_account(api_key))

    def reset(self) -> None:
        """Forget records, scripts, pending failures and caches (knobs are kept)."""
        with self._changed:
            self._records.clear()
            self._failures.clear()
            self._caches.clear()
        self._fim_script.add(None)
        self._chat_script.add(None)

    # -- records and waiting -----------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot list of every request so far (the records themselves are live)."""
        with self._changed:
            return list(self._records)

    def requests_to(self, endpoint: str) -> list[RequestRecord]:
        """Records of one endpoint: "fim", "chat" or "models"."""
        return [r for r in self.requests if r.endpoint == endpoint]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block until `predicate()` (evaluated under the records lock) is true, else TimeoutError."""
        with self._changed:
            if not self._changed.wait_for(predicate, timeout):
                raise TimeoutError(f"fake DeepSeek: condition not met within {timeout}s")

    def wait_for_request(
        self, match: Callable[[RequestRecord], bool] | None = None, *, timeout: float = 5.0
    ) -> RequestRecord:
        """The first record (in arrival order) that `match`es; blocks until there is one."""
        found: list[RequestRecord] = []
        self.wait_until(lambda: self._find(match, found), timeout)
        return found[0]

    def wait_for_disconnect(self, timeout: float = 5.0) -> RequestRecord:
        """The first record whose client went away."""
        return self.wait_for_request(lambda r: r.disconnected, timeout=timeout)

    def wait_for_requests(self, n: int, *, timeout: float = 5.0) -> list[RequestRecord]:
        """Block until at least `n` requests arrived; returns the first `n`."""
        self.wait_until(lambda: len(self._records) >= n, timeout)
        return self.requests[:n]

    async def wait_until_async(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """`wait_until` for async tests (polls; cancellable)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                if predicate():
                    return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"fake DeepSeek: condition not met within {timeout}s")
            await asyncio.sleep(0.005)

    async def wait_for_request_async(
        self, match: Callable[[RequestRecord], bool] | None = None, *, timeout: float = 5.0
    ) -> RequestRecord:
        found: list[RequestRecord] = []
        await self.wait_until_async(lambda: self._find(match, found), timeout)
        return found[0]

    async def wait_for_disconnect_async(self, timeout: float = 5.0) -> RequestRecord:
        return await self.wait_for_request_async(lambda r: r.disconnected, timeout=timeout)

    def _find(self, match: Callable[[RequestRecord], bool] | None, found: list[RequestRecord]) -> bool:
        for record in self._records:
            if match is None or match(record):
                found.append(record)
                return True
        return False

    def _update(self, record: RequestRecord, **changes: Any) -> None:
        with self._changed:
            for name, value in changes.items():
                setattr(record, name, value)
            self._changed.notify_all()

    # -- request handling ----------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        ex = Exchange(handler, self._stopping)
        raw = ex.read_body() if method == "POST" else b""
        record = self._open_record(handler, method, raw)
        try:
            self._dispatch(ex, record, method)
        except ApiError as err:
            self._send_error(ex, record, err.status, wire.error_body(err.status, err.message, err.param))
        except ServerStopping:
            ex.close()
        finally:
            if ex.gone:
                ex.close()
            self._update(record, disconnected=ex.gone, completed_at=time.monotonic())

    def _open_record(self, handler: BaseHTTPRequestHandler, method: str, raw: bytes) -> RequestRecord:
        headers = {k.lower(): v for k, v in handler.headers.items() if k.lower() != "authorization"}
        key = _bearer(handler.headers.get("Authorization"))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        route = _route(method, handler.path)
        valid = key is not None and key in self.api_keys
        with self._changed:
            record = RequestRecord(
                id=len(self._records) + 1,
                method=method,
                path=handler.path,
                headers=headers,
                auth_present=handler.headers.get("Authorization") is not None,
                auth_valid=valid,
                account=_account(key) if valid and key is not None else None,
                body=body,
                endpoint=route[0] if route else "unknown",
                stream=isinstance(body, dict) and body.get("stream") is True,
            )
            self._records.append(record)
            self._changed.notify_all()
        return record

    def _take_failure(self, path: str) -> _Failure | None:
        with self._changed:
            for failure in self._failures:
                if failure.path is None or failure.path in path:
                    self._failures.remove(failure)
                    return failure
        return None

    def _dispatch(self, ex: Exchange, record: RequestRecord, method: str) -> None:
        failure = self._take_failure(record.path)
        if failure is not None:
            self._update(record, injected=True)
            self._send_error(ex, record, failure.status, failure.body, failure.headers)
            return
        if not record.auth_valid:
            raise ApiError(401, "Authentication Fails, Your api key is invalid")
        route = _route(method, record.path)
        if route is None:
            raise ApiError(404, f"Not Found: {method} {record.path}")
        endpoint, beta = route
        if endpoint == "models":
            self._send_json(ex, record, 200, wire.models_body(self.models))
            return
        if record.body is None:
            raise ApiError(400, "Invalid request: the body is not valid JSON")
        assert record.account is not None
        reply = self._reply(endpoint, beta, record)
        self._deliver(ex, record, reply)

    def _reply(self, endpoint: str, beta: bool, record: RequestRecord) -> Reply:
        assert record.account is not None
        cache = self._cache(record.account) if self.cache_enabled else None
        if endpoint == "fim":
            fim = parse_fim(record.body, models=self.models, max_tokens_cap=self.fim_max_tokens)
            reply = fim_reply(fim, record.body, self._fim_script, cache)
        else:
            chat = parse_chat(
                record.body, models=self.models, beta=beta, thinking_default=self.thinking_default
            )
            reply = chat_reply(chat, record.body, self._chat_script, cache, self.default_reasoning)
        self._update(
            record,
            usage=reply.usage,
            text=reply.text,
            reasoning=reply.reasoning,
            finish_reason=reply.finish_reason,
        )
        return reply

    def _cache(self, account: str) -> PromptCache:
        with self._changed:
            cache = self._caches.get(account)
            if cache is None:
                cache = PromptCache(
                    min_unit=self.cache_min_unit,
                    interval=self.cache_interval,
                    store_delay_s=self.cache_store_delay_s,
                )
                self._caches[account] = cache
            return cache

    # -- delivery ------------------------------------------------------------------------------

    def _latency(self, reply: Reply) -> float:
        if self.hang:
            return math.inf
        return self.latency_s + self.latency_per_miss_token_s * reply.miss_tokens

    def _deliver(self, ex: Exchange, record: RequestRecord, reply: Reply) -> None:
        delay = self._latency(reply)
        self._update(record, delay_s=delay)
        keepalive = self.keepalive_interval_s
        stream = reply.stream
        content_type = "text/event-stream; charset=utf-8" if stream else "application/json"
        if keepalive and delay > 0:
            if not ex.start_chunked(200, content_type):
                return
            self._update(record, status=200)
            ping = b": keep-alive\n\n" if stream else b"\n"
            if not ex.wait(delay, ping, keepalive):
                return
        elif not ex.wait(delay):
            return
        if self.reset_after_chunks == 0:
            self._update(record, fault="reset")
            ex.reset()
        elif self.garbage_body is not None:
            self._send_garbage(ex, record, self.garbage_body)
        elif stream:
            self._send_stream(ex, record, reply)
        else:
            self._send_reply_json(ex, record, reply)

    def _send_last(
        self, ex: Exchange, record: RequestRecord, send: Callable[[], bool], reply: Reply | None = None
    ) -> None:
        """Send the last bytes, marking the record finished (and storing cache unit (b)) FIRST:
        a client holding the whole response must never find the record unfinished."""
        if reply is not None and reply.cache is not None:
            reply.cache.on_output(reply.cache_sequence)
        self._update(record, finished=True)
        if not send():
            self._update(record, finished=False)

    def _send_reply_json(self, ex: Exchange, record: RequestRecord, reply: Reply) -> None:
        assert reply.body is not None
        data = wire.dumps(reply.body)
        if ex.headers_sent:  # behind keep-alive blank lines
            self._send_last(ex, record, lambda: ex.end_chunked(data), reply)
            return
        self._update(record, status=200)
        self._send_last(ex, record, lambda: ex.send_body(200, data, "application/json"), reply)

    def _send_garbage(self, ex: Exchange, record: RequestRecord, body: bytes) -> None:
        self._update(record, status=200, fault="garbage")
        if ex.headers_sent:  # behind keep-alives
            self._send_last(ex, record, lambda: ex.end_chunked(body))
        else:
            self._send_last(ex, record, lambda: ex.send_body(200, body, "application/json"))

    def _send_stream(self, ex: Exchange, record: RequestRecord, reply: Reply) -> None:
        if not ex.headers_sent:
            if not ex.start_chunked(200, "text/event-stream; charset=utf-8"):
                return
            self._update(record, status=200)
        plan = faults.edit_events(
            reply.events,
            malformed_after=self.malformed_after_chunks,
            end_after=self.end_after_chunks,
            omit_usage=self.omit_usage,
            omit_done=self.omit_done,
        )
        if plan.fault is not None:
            self._update(record, fault=plan.fault)
        last = len(plan.events) - 1
        for i, event in enumerate(plan.events):
            if i == self.hang_after_chunks:
                ex.wait(math.inf, b": keep-alive\n\n", self.keepalive_interval_s)
                return
            if i == self.reset_after_chunks:
                self._update(record, fault="reset")
                ex.reset()
                return
            if i == self.trickle_after_chunks:
                self._update(record, fault="trickle")
                rest = b"".join(plan.events[i:])
                if faults.trickle(ex, rest, self.trickle_interval_s):
                    self._send_last(ex, record, lambda: ex.end_chunked(), reply)
                return
            if i and self.chunk_delay_s and not ex.wait(self.chunk_delay_s):
                return
            if ex.client_gone():
                return
            self._update(record, chunks_sent=record.chunks_sent + 1)
            if i == last:
                self._send_last(ex, record, lambda: ex.end_chunked(event), reply)
            elif not ex.write_chunk(event):
                return

    def _send_json(self, ex: Exchange, record: RequestRecord, status: int, body: dict[str, Any]) -> None:
        self._update(record, status=status)
        self._send_last(ex, record, lambda: ex.send_body(status, wire.dumps(body), "application/json"))

    def _send_error(
        self,
        ex: Exchange,
        record: RequestRecord,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self._update(record, status=status, error=body)
        if ex.headers_sent:  # too late for a status: end the stream/body instead
            ex.close()
            return
        data = wire.dumps(body)
        self._send_last(ex, record, lambda: ex.send_body(status, data, "application/json", headers))


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, key = header.partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def _account(api_key: str) -> str:
    """A stable, non-reversible account id for a key (the key itself is never stored)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]
