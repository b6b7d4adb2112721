"""Opt-in OpenTelemetry export (GenAI semantic conventions) of every model call."""

from __future__ import annotations

from flashpro.telemetry.otel import Telemetry

__all__ = ["Telemetry"]
