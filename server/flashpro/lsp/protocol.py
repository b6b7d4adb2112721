"""flashpro's JSON-RPC protocol: one answer to every request, one log line for every fault.

pygls decodes a message inside its read loop; when params do not decode it raises out of that
loop, so the request gets no response at all, a traceback is logged and `report_server_error`
shows it to the user. `FlashproProtocol.receive` takes each message body itself and:

* answers a body that is not JSON with ParseError (-32700), an envelope that is not a JSON-RPC
  request with InvalidRequest (-32600), params that do not decode with InvalidParams (-32602)
  and a handler that fails with InternalError (-32603): a concise message, never a traceback
  in `data`; a notification that does not decode is dropped. Each logs one line; a traceback,
  if any, only at DEBUG;
* decodes strictly (`strict_converter`): a string, float or boolean where LSP wants an integer
  is a wrong type, not something to coerce;
* keeps the LSP lifecycle: before `initialize`, requests get ServerNotInitialized (-32002) and
  notifications are dropped (`exit` aside); after `shutdown`, requests get InvalidRequest;
  `exit` sets `exit_code` (0 after `shutdown`, else 1) for the read loop to stop on, instead of
  raising SystemExit from inside a handler;
* leaves document sync to flashpro's own incremental buffers (no second, whole-text copy of
  every document in pygls' workspace).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import uuid
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import cattrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcParseError,
    JsonRpcRequestCancelled,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
    lsp_method,
)

__all__ = ["FlashproProtocol", "describe", "strict_converter"]

logger = logging.getLogger(__name__)

_MAX_DETAIL = 200
_NOT_JSON = "a message body that is not JSON"


def describe(exc: BaseException) -> str:
    """`Type: message` on one line, short enough for a log line or an error response."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _problem(exc: Exception) -> str:
    """What did not decode, as cattrs reports it (`... @ $.params.range.start`)."""
    if isinstance(exc, cattrs.BaseValidationError):
        text = "; ".join(cattrs.transform_error(exc, path="$")[:3])
        text = text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
        return text or describe(exc)
    return describe(exc)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_id(value: Any) -> bool:
    """JSON-RPC ids in LSP: an integer or a string (a boolean is neither)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _strict(check: Callable[[Any], bool], name: str) -> Callable[[Any, type], Any]:
    def hook(value: Any, kind: type) -> Any:
        if not check(value):
            raise TypeError(f"expected {name}, got {type(value).__name__}")
        return kind(value)  # the primitive, or its enum subclass (which checks membership)

    return hook


def strict_converter() -> cattrs.Converter:
    """pygls' converter, except that primitives are checked, not coerced (`"1"` is no int)."""
    converter = default_converter()
    converter.register_structure_hook(
        int, _strict(lambda v: type(v) is int or (type(v) is float and v.is_integer()), "an integer")
    )
    converter.register_structure_hook(float, _strict(lambda v: type(v) in (int, float), "a number"))
    converter.register_structure_hook(str, _strict(lambda v: type(v) is str, "a string"))
    converter.register_structure_hook(bool, _strict(lambda v: type(v) is bool, "a boolean"))
    return converter


class FlashproProtocol(LanguageServerProtocol):
    """LSP protocol that answers every request and feeds document sync to flashpro's store."""

    def __init__(self, server: Any, converter: cattrs.Converter) -> None:
        self._initialize_seen = False  # before pygls' set-up, which may already log
        super().__init__(server, converter)
        self.exit_code: int | None = None
        """Set by the `exit` notification: the process's exit status."""
        self._methods: dict[Any, str] = {}
        self._write_failed = False

    # -- receiving -------------------------------------------------------------------------
    @property
    def initialize_seen(self) -> bool:
        """Whether `initialize` has arrived (before it, LSP lets the server send nothing)."""
        return self._initialize_seen

    def receive(self, body: bytes) -> None:
        """Handle one message body from the wire (framing already checked)."""
        try:
            data = json.loads(body.decode("utf-8", errors="replace"), parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            logger.warning("flashpro: %s (%s); answered with ParseError", _NOT_JSON, describe(exc))
            self._send_error(None, JsonRpcParseError(f"Parse error: {_NOT_JSON}"))
            return
        contextvars.copy_context().run(self._receive, data)

    def _receive(self, data: Any) -> None:
        if not isinstance(data, dict):
            self._refuse(None, "a message must be one JSON object (LSP has no batches)")
            return
        if "method" not in data:
            self._receive_response(data)
            return
        method, is_request, msg_id = data["method"], "id" in data, data.get("id")
        if is_request and not _is_id(msg_id):
            self._refuse(None, "a request id must be an integer or a string")
            return
        if data.get("jsonrpc") != "2.0" or not isinstance(method, str):
            if is_request:
                self._refuse(msg_id, "not a JSON-RPC 2.0 request")
            else:
                logger.warning("flashpro: dropped a notification that is not JSON-RPC 2.0")
            return
        if not self._admit(method, msg_id, is_request):
            return
        envelope: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": data.get("params")}
        if is_request:
            envelope["id"] = msg_id
        fallback = JsonRPCRequestMessage if is_request else JsonRPCNotification
        try:
            message = self._converter.structure(envelope, self.get_message_type(method) or fallback)
        except Exception as exc:  # noqa: BLE001 - whatever the client sent, it gets an answer
            problem = _problem(exc)
            logger.debug("flashpro: %s did not decode", method, exc_info=exc)
            if is_request:
                logger.warning("flashpro: %s (request %s): invalid params: %s", method, msg_id, problem)
                self._send_error(msg_id, JsonRpcInvalidParams(f"Invalid params for {method}: {problem}"))
            else:
                logger.warning("flashpro: dropped a %s notification: invalid params: %s", method, problem)
            return
        if method == types.INITIALIZE:
            self._initialize_seen = True
        params = getattr(message, "params", None)
        if is_request:
            self._handle_request(msg_id, method, params)
        else:
            self._handle_notification(method, params)

    def _admit(self, method: str, msg_id: Any, is_request: bool) -> bool:
        """The lifecycle gate: whether `method` may run now (answering the request if not)."""
        if method == types.EXIT and not is_request:
            return True
        if not self._initialize_seen:
            if method == types.INITIALIZE and is_request:
                return True
            if is_request:
                logger.info("flashpro: %s before initialize: answered ServerNotInitialized", method)
                self._send_error(msg_id, JsonRpcServerNotInitialized("Server not initialized: send initialize first"))
            else:
                logger.info("flashpro: dropped a %s notification sent before initialize", method)
            return False
        if self._shutdown:
            if is_request:
                logger.info("flashpro: %s after shutdown: answered InvalidRequest", method)
                self._send_error(msg_id, JsonRpcInvalidRequest("The server is shutting down: only exit is accepted"))
            return False
        if method == types.INITIALIZE:
            if is_request:
                self._refuse(msg_id, "initialize was already received")
            return False
        return True

    def _refuse(self, msg_id: Any, reason: str) -> None:
        logger.warning("flashpro: invalid request: %s", reason)
        self._send_error(msg_id, JsonRpcInvalidRequest(f"Invalid request: {reason}"))

    def _receive_response(self, data: dict[str, Any]) -> None:
        """An answer from the client to one of our requests."""
        msg_id: str | int = data.get("id")  # type: ignore[assignment]  # checked just below
        if not _is_id(msg_id) or data.get("jsonrpc") != "2.0":
            logger.warning("flashpro: dropped a message with neither a method nor a valid id")
            return
        result_type = self._result_types.pop(msg_id, None)
        try:
            if "error" in data:
                error = self._converter.structure(data["error"], types.ResponseError)
            else:
                envelope = {"jsonrpc": "2.0", "id": msg_id, "result": data.get("result")}
                result = self._converter.structure(envelope, result_type or JsonRPCResponseMessage).result
        except Exception as exc:  # noqa: BLE001 - the waiting request fails instead of hanging
            logger.warning("flashpro: the editor's answer to request %s did not decode: %s", msg_id, _problem(exc))
            future = self._request_futures.pop(msg_id, None)
            if future is not None and not future.done():
                future.set_exception(JsonRpcInvalidParams(f"malformed answer: {_problem(exc)}"))
            return
        if "error" in data:
            self._handle_response(msg_id, None, error)
        else:
            self._handle_response(msg_id, result)

    # -- handling (pygls' paths, without tracebacks or pop-ups) -----------------------------
    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> None:
        try:
            handler = self._get_handler(method_name)
        except JsonRpcMethodNotFound as error:
            logger.info("flashpro: request %s for an unknown method %r", msg_id, method_name)
            self._send_error(msg_id, error)
            return
        self._ctx_msg_id.set(msg_id)
        self._methods[msg_id] = method_name
        try:
            self._execute_handler(
                msg_id, handler, callback=partial(self._send_handler_result, msg_id=msg_id), args=(params,)
            )
        except Exception as exc:  # noqa: BLE001 - the handler did not even start
            self._request_futures.pop(msg_id, None)
            self._methods.pop(msg_id, None)
            self._answer_failure(msg_id, method_name, exc)

    def _run_generator(self, future: Any, *, gen: Generator[Any, Any, Any], result_future: Any) -> None:
        """pygls' step of a handler that yields to a user handler, unless that was cancelled
        (pygls would raise CancelledError out of a loop callback: a traceback on stderr)."""
        if future is not None and future.cancelled():
            gen.close()
            result_future.cancel()
            return
        super()._run_generator(future, gen=gen, result_future=result_future)

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        self._request_futures.pop(msg_id, None)
        method = self._methods.pop(msg_id, "a request")
        if future.cancelled():
            self._send_error(msg_id, JsonRpcRequestCancelled(f'Request with id "{msg_id}" is canceled'))
            return
        exc = future.exception()
        if exc is not None:
            self._answer_failure(msg_id, method, exc)
            return
        self._send_response(msg_id, result=future.result())

    def _answer_failure(self, msg_id: Any, method: str, exc: BaseException) -> None:
        """Answer a failed request: its own JSON-RPC error, else InternalError; one log line."""
        if isinstance(exc, JsonRpcException):
            logger.warning("flashpro: %s (request %s): %s", method, msg_id, exc.message)
            self._send_error(msg_id, exc)
            return
        logger.error("flashpro: %s (request %s) failed: %s", method, msg_id, describe(exc))
        logger.debug("flashpro: %s failed", method, exc_info=exc)
        self._send_error(msg_id, JsonRpcInternalError(f"{method} failed: {describe(exc)}"))

    def _handle_notification(self, method_name: str, params: Any) -> None:
        if method_name == types.CANCEL_REQUEST:
            msg_id = getattr(params, "id", None)
            if _is_id(msg_id):
                self._handle_cancel_notification(msg_id)
            return
        try:
            handler = self._get_handler(method_name)
        except JsonRpcMethodNotFound:
            logger.debug("flashpro: ignored a %s notification (no handler)", method_name)
            return
        key = str(uuid.uuid4())
        try:
            self._execute_handler(
                key, handler, callback=partial(self._notification_done, key=key, method=method_name), args=(params,)
            )
        except Exception as exc:  # noqa: BLE001 - the handler did not even start
            self._request_futures.pop(key, None)
            self._notification_failed(method_name, exc)

    def _notification_done(self, future: Any, *, key: str, method: str) -> None:
        self._request_futures.pop(key, None)  # pygls keeps async notifications' futures forever
        if not future.cancelled() and (exc := future.exception()) is not None:
            self._notification_failed(method, exc)

    @staticmethod
    def _notification_failed(method: str, exc: BaseException) -> None:
        logger.error("flashpro: %s notification failed: %s", method, describe(exc))
        logger.debug("flashpro: %s failed", method, exc_info=exc)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        future = self._request_futures.pop(msg_id, None)
        if future is None:
            logger.debug("flashpro: cancel for request %s, which is not running", msg_id)
        elif future.cancel():
            logger.debug("flashpro: cancelled request %s", msg_id)

    # -- sending ---------------------------------------------------------------------------
    def _send_error(self, msg_id: Any, error: JsonRpcException) -> None:
        """An error response (JSON-RPC wants `"id": null` when the id is unknown)."""
        body = {"jsonrpc": "2.0", "id": msg_id, "error": {"code": error.code, "message": error.message}}
        self._write(json.dumps(body))

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: types.ResponseError | None = None
    ) -> None:
        if error is not None:
            self._send_error(msg_id, JsonRpcException(error.message, error.code))
            return
        try:
            response_type = self._result_types.pop(msg_id, JsonRPCResponseMessage)
            body = self._encode(response_type(id=msg_id, result=result, jsonrpc="2.0"))
        except Exception as exc:  # noqa: BLE001 - an unencodable result still gets an answer
            logger.error("flashpro: the answer to request %s could not be encoded: %s", msg_id, describe(exc))
            self._send_error(msg_id, JsonRpcInternalError(f"the answer could not be encoded: {describe(exc)}"))
            return
        self._write(body)

    def _send_data(self, data: Any) -> None:
        if not data:
            return
        try:
            body = self._encode(data)
        except Exception as exc:  # noqa: BLE001 - never raise into the code that sends
            logger.error("flashpro: a %s could not be encoded: %s", type(data).__name__, describe(exc))
            return
        self._write(body)

    def _encode(self, data: Any) -> str:
        return json.dumps(data, default=self._serialize_message)

    def _write(self, body: str) -> None:
        if self.writer is None or self._write_failed:
            return
        data = body.encode("utf-8")
        if self._include_headers:
            data = (
                f"Content-Length: {len(data)}\r\n"
                f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
            ).encode("ascii") + data
        try:
            written = self.writer.write(data)
            if inspect.isawaitable(written):
                asyncio.ensure_future(written)
        except (OSError, ValueError) as exc:  # the editor is gone; the read side will see EOF
            self._write_failed = True
            logger.warning("flashpro: cannot write to the editor any more: %s", describe(exc))

    # -- lifecycle and document sync -------------------------------------------------------
    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:  # type: ignore[override]  # pygls' is a generator; ours ends the loop
        """Record the exit status (0 after shutdown, else 1); the read loop stops on it."""
        self.exit_code = 0 if self._shutdown else 1

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """pygls' shutdown, iterating over a copy: cancelling a future runs our callbacks,
        which forget it (pygls never forgot a notification's future)."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True

    @lsp_method(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def lsp_work_done_progress_cancel(self, params: types.WorkDoneProgressCancelParams) -> Generator[Any, Any, None]:
        """pygls' progress cancel, for a token of a valid type only (a list would not hash)."""
        if not _is_id(params.token):
            logger.warning("flashpro: dropped a progress cancel with an invalid token")
            return
        yield from super().lsp_work_done_progress_cancel(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None
