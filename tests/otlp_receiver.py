"""A local OTLP/HTTP receiver for tests: decodes the spans and metrics an exporter sends.

A real HTTP server on 127.0.0.1 accepting `POST /v1/traces` and `POST /v1/metrics` with protobuf
bodies (gzip or not), decoded with the official `opentelemetry-proto` messages and kept as plain
Python values: spans as dicts of name, kind, attributes, status; metric points by name.
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

__all__ = ["OtlpReceiver"]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _attributes(items: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in items}


class OtlpReceiver:
    """Start with `with OtlpReceiver() as receiver:`; `receiver.url` is the OTLP endpoint."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.metrics: dict[str, list[dict[str, Any]]] = {}
        self.resources: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                reply = receiver._take(self.path, body)
                self.send_response(200 if reply is not None else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                data = reply or b""
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take(self, path: str, body: bytes) -> bytes | None:
        with self._lock:
            self.raw.append(body)
            if path == "/v1/traces":
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    self.resources.append(_attributes(resource.resource.attributes))
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            self.spans.append(
                                {
                                    "name": span.name,
                                    "kind": span.kind,
                                    "attributes": _attributes(span.attributes),
                                    "status": span.status.code,
                                    "duration_ns": span.end_time_unix_nano - span.start_time_unix_nano,
                                }
                            )
                return ExportTraceServiceResponse().SerializeToString()
            if path == "/v1/metrics":
                request = ExportMetricsServiceRequest.FromString(body)
                for resource in request.resource_metrics:
                    for scope in resource.scope_metrics:
                        for metric in scope.metrics:
                            data = getattr(metric, metric.WhichOneof("data"))
                            for point in data.data_points:
                                value = getattr(point, "sum", None) if metric.WhichOneof("data") == "histogram" else None
                                if value is None:
                                    value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
                                self.metrics.setdefault(metric.name, []).append(
                                    {"unit": metric.unit, "attributes": _attributes(point.attributes), "value": value}
                                )
                return ExportMetricsServiceResponse().SerializeToString()
        return None
