"""Opt-in OpenTelemetry export of every model call, for teams: GenAI semantic conventions.

When `flashpro.telemetry.otlpEndpoint` (or the standard `OTEL_EXPORTER_OTLP_ENDPOINT`) is set,
every call the meter records is also exported over OTLP/HTTP with the official SDK:

- a CLIENT span `{operation} {model}` (`chat` for chat calls, `text_completion` for FIM) with the
  `gen_ai.*` attributes (operation, provider, request and response model, response id, finish
  reason, input/output/cache-read/reasoning tokens, time to first chunk; `error.type` on failure)
  and flashpro's own: `flashpro.cost_usd`, `flashpro.cache_hit_ratio`, `flashpro.role`,
  `flashpro.kind`, `flashpro.status`, `flashpro.outcome`, `flashpro.file`, `flashpro.task_id`;
- the metrics `gen_ai.client.token.usage` (histogram, `{token}`, by `gen_ai.token.type`) and
  `gen_ai.client.operation.duration` (histogram, seconds), plus `flashpro.cost` (USD counter),
  `flashpro.cache.tokens` (counter by `flashpro.cache` = hit / miss) and `flashpro.suggestions`
  (counter by `flashpro.outcome`: shown, accepted, ...).

Prompt text is never exported unless `flashpro.logPrompts` is on (then as `gen_ai.input.messages`
on the span). The SDK's own environment variables (`OTEL_EXPORTER_OTLP_HEADERS`, ...) apply.
Nothing is imported or started until an endpoint is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flashpro import __version__
from flashpro.calls import CallInfo
from flashpro.config import Settings
from flashpro.documents import relative_label

__all__ = ["Telemetry"]

logger = logging.getLogger(__name__)


class Telemetry:
    """The session's OTLP exporters (none until an endpoint is configured)."""

    def __init__(self) -> None:
        self.endpoint: str | None = None
        self._tracer: Any = None
        self._instruments: dict[str, Any] = {}
        self._providers: tuple[Any, Any] | None = None
        self._log_prompts = False
        self._roots: list[str] = []

    @property
    def enabled(self) -> bool:
        return self._providers is not None

    def configure(self, settings: Settings, env: Mapping[str, str], workspace: str | None) -> None:
        """Start, restart or stop exporting for the configured endpoint."""
        self._log_prompts = settings.log_prompts
        self._roots = [workspace.rstrip("/") + "/"] if workspace else []
        endpoint = settings.telemetry.otlp_endpoint or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
        endpoint = endpoint.rstrip("/") if endpoint else None
        if endpoint == self.endpoint and (endpoint is None or self.enabled):
            return
        self.shutdown()
        self.endpoint = endpoint
        if endpoint is None:
            return
        try:
            self._start(endpoint, settings.telemetry.export_interval_seconds, workspace)
        except Exception as exc:  # noqa: BLE001 - telemetry must never stop the server
            logger.warning("OpenTelemetry export could not start (%s); continuing without it", exc)
            self._providers = None

    def _start(self, endpoint: str, interval: float, workspace: str | None) -> None:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

        quiet = logging.getLogger("opentelemetry")  # the SDK logs each retry to stderr
        quiet.setLevel(logging.CRITICAL)
        quiet.propagate = False
        resource = Resource.create(
            {
                "service.name": "flashpro",
                "service.version": __version__,
                "flashpro.workspace": (workspace or "").rstrip("/").rsplit("/", 1)[-1],
            }
        )
        tracers = TracerProvider(resource=resource)
        tracers.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=2))
        )
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics", timeout=2),
            export_interval_millis=interval * 1000,
        )
        meters = MeterProvider(resource=resource, metric_readers=[reader])
        self._providers = (tracers, meters)
        self._tracer = tracers.get_tracer("flashpro", __version__)
        meter = meters.get_meter("flashpro", __version__)
        self._instruments = {
            "tokens": gen_ai_metrics.create_gen_ai_client_token_usage(meter),
            "duration": gen_ai_metrics.create_gen_ai_client_operation_duration(meter),
            "cost": meter.create_counter("flashpro.cost", unit="USD", description="USD spent on model calls."),
            "cache": meter.create_counter("flashpro.cache.tokens", unit="{token}", description="Prompt tokens by cache hit or miss."),
            "suggestions": meter.create_counter("flashpro.suggestions", unit="{suggestion}", description="Inline suggestions by outcome."),
        }
        logger.info("exporting OpenTelemetry to %s", endpoint)

    def record(self, info: CallInfo, cost_usd: float | None) -> None:
        """Export one finished call."""
        if not self.enabled:
            return
        try:
            self._record(info, cost_usd)
        except Exception as exc:  # noqa: BLE001 - telemetry must never fail a call
            logger.debug("telemetry export of a call failed: %s", exc)

    def _record(self, info: CallInfo, cost_usd: float | None) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        trace, usage = info.trace, info.trace.usage
        operation = "text_completion" if info.kind == "fim" else "chat"
        common = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": "deepseek",
            "gen_ai.request.model": info.model,
            "flashpro.role": info.role,
        }
        if trace.model_reported:
            common["gen_ai.response.model"] = trace.model_reported
        attributes: dict[str, Any] = {**common, "flashpro.kind": info.kind, "flashpro.status": info.status}
        optional = {
            "gen_ai.response.id": trace.request_id,
            "gen_ai.response.finish_reasons": [trace.finish_reason] if trace.finish_reason else None,
            "error.type": info.error_kind or ("cancelled" if info.status == "cancelled" else None),
            "flashpro.outcome": info.outcome,
            "flashpro.file": relative_label(info.uri, self._roots) if info.uri else None,
            "flashpro.task_id": info.task_id,
            "flashpro.node_id": info.node_id,
            "flashpro.cost_usd": cost_usd,
            "gen_ai.response.time_to_first_chunk": (trace.latency_first_ms / 1000) if trace.latency_first_ms else None,
            "gen_ai.input.messages": info.prompt_text if self._log_prompts and info.prompt_text else None,
        }
        if usage is not None:
            optional.update(
                {
                    "gen_ai.usage.input_tokens": usage.prompt_tokens,
                    "gen_ai.usage.output_tokens": usage.completion_tokens,
                    "gen_ai.usage.cache_read.input_tokens": usage.cache_hit_tokens,
                    "gen_ai.usage.reasoning.output_tokens": usage.reasoning_tokens,
                    "flashpro.cache_hit_ratio": usage.cache_hit_ratio,
                }
            )
        attributes.update({key: value for key, value in optional.items() if value is not None})
        start = int(trace.started_utc.timestamp() * 1e9)
        end = start + int(trace.latency_total_ms * 1e6)
        span = self._tracer.start_span(f"{operation} {info.model}", kind=SpanKind.CLIENT, start_time=start, attributes=attributes)
        if info.status == "error":
            span.set_status(Status(StatusCode.ERROR, info.error_kind or "error"))
        span.end(end_time=end)
        metric = {**common, **({"error.type": attributes["error.type"]} if "error.type" in attributes else {})}
        self._instruments["duration"].record(trace.latency_total_ms / 1000, metric)
        if usage is not None:
            self._instruments["tokens"].record(usage.prompt_tokens, {**common, "gen_ai.token.type": "input"})
            self._instruments["tokens"].record(usage.completion_tokens, {**common, "gen_ai.token.type": "output"})
            self._instruments["cache"].add(usage.cache_hit_tokens, {**common, "flashpro.cache": "hit"})
            self._instruments["cache"].add(usage.cache_miss_tokens, {**common, "flashpro.cache": "miss"})
        if cost_usd:
            self._instruments["cost"].add(cost_usd, common)

    def outcome(self, outcome: str) -> None:
        """Count an inline suggestion's outcome (shown, accepted, rejected, ...)."""
        if self.enabled:
            self._instruments["suggestions"].add(1, {"flashpro.outcome": outcome})

    def shutdown(self) -> None:
        """Export what is pending and stop."""
        if self._providers is None:
            return
        tracers, meters = self._providers
        self._providers = None
        try:
            tracers.shutdown()  # exports the spans still queued (the exporter gives up after 2 s)
            meters.shutdown(timeout_millis=3000)
        except Exception as exc:  # noqa: BLE001 - a collector that is down must not block exit
            logger.warning("OpenTelemetry export on shutdown failed: %s", exc)
