"""The flashpro core: all state of one server session, with no LSP library in sight.

`Flashpro` owns the settings, the open documents, the provider, the error gate, the completion
service and (when present) the ledger. The LSP layer (`flashpro.lsp`) holds one `Flashpro` and
talks to the editor through the `Frontend` protocol it implements.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, Protocol

from flashpro.completion import CallInfo, CompletionService
from flashpro.config import Settings, load_settings, merge_sources
from flashpro.documents import DocumentStore, Encoding
from flashpro.logs import SECRET_FILTER
from flashpro.providers import DeepSeekProvider, MissingKey, ProviderError, redact
from flashpro.providers.gate import ErrorGate

__all__ = ["Flashpro", "Frontend"]

logger = logging.getLogger(__name__)


class Frontend(Protocol):
    """What the core needs from the editor connection."""

    def show_message(self, level: str, text: str) -> None:
        """Tell the user something (level: error / warning / info)."""

    def calls_changed(self, uri: str) -> None:
        """A call for `uri` finished: spend figures may have changed."""


class Flashpro:
    """One server session's state and capabilities."""

    def __init__(self, frontend: Frontend, env: Mapping[str, str] | None = None):
        self.frontend = frontend
        self._env = dict(os.environ if env is None else env)
        self._init_options: Any = None
        self._workspace_config: Any = None
        self._reported: set[str] = set()
        self.settings: Settings = Settings()
        self.documents = DocumentStore()
        self.gate = ErrorGate()
        self.provider = DeepSeekProvider(None, self.settings.base_url)
        self.completion = CompletionService(
            settings=lambda: self.settings,
            provider=lambda: self.provider,
            gate=self.gate,
            sink=self,
        )
        self.configure()

    # -- settings --------------------------------------------------------------------------
    def set_encoding(self, encoding: Encoding) -> None:
        """Use the position encoding negotiated at initialize."""
        self.documents.encoding = encoding

    def configure(self, init_options: Any = None, workspace_config: Any = None) -> list[str]:
        """Re-read settings from every source; returns the problems found (each reported once)."""
        if init_options is not None:
            self._init_options = init_options
        if workspace_config is not None:
            self._workspace_config = workspace_config
        raw = merge_sources(self._init_options, self._workspace_config, env=self._env)
        settings, problems = load_settings(raw)
        old = self.settings
        self.settings = settings
        key_changed = (
            old.api_key_value != settings.api_key_value
            or old.base_url != settings.base_url
            or old.request_timeout != settings.request_timeout
        )
        if key_changed or self.provider.has_key != bool(settings.api_key_value):
            self.provider = DeepSeekProvider(
                settings.api_key_value, settings.base_url, chat_timeout=settings.request_timeout
            )
            self.gate.reset()
        self.documents.set_exclude(settings.exclude)
        SECRET_FILTER.key = settings.api_key_value
        for problem in problems:
            if problem not in self._reported:
                self._reported.add(problem)
                logger.warning("invalid setting, using the default: %s", problem)
                self.frontend.show_message("warning", f"{problem} (using the default)")
        return problems

    # -- provider events (CallSink) --------------------------------------------------------
    def call_finished(self, info: CallInfo) -> None:
        """Every model call ends here: cancelled, failed or fine."""
        trace = info.trace
        usage = trace.usage
        logger.info(
            "%s %s %s status=%s%s prompt=%s hit=%s out=%s %.0fms",
            info.kind,
            info.model,
            info.uri,
            info.status,
            f" ({info.error_kind})" if info.error_kind else "",
            usage.prompt_tokens if usage else "-",
            usage.cache_hit_tokens if usage else "-",
            usage.completion_tokens if usage else "-",
            trace.latency_total_ms,
        )
        self.frontend.calls_changed(info.uri)

    def provider_failed(self, error: ProviderError, announce: bool) -> None:
        """A call failed: log it, and tell the user once per kind."""
        message = redact(error.user_message(), self.settings.api_key_value)
        logger.warning("%s", message)
        if announce:
            self.frontend.show_message("error" if error.fatal else "warning", message)

    # -- lifecycle -------------------------------------------------------------------------
    async def check_models(self) -> None:
        """Compare configured model names with `GET /models`; say clearly if one is unknown."""
        if not self.provider.has_key:
            error = MissingKey("no DeepSeek API key is configured")
            self.provider_failed(error, announce=self.gate.observe(error))
            return
        try:
            available = set(await self.provider.list_models())
        except ProviderError as error:
            self.provider_failed(error, announce=self.gate.observe(error))
            return
        for role, name in (("flash", self.settings.models.flash), ("pro", self.settings.models.pro)):
            if available and name not in available:
                self.frontend.show_message(
                    "warning",
                    f"flashpro: model '{name}' (flashpro.models.{role}) is not offered by this "
                    f"API key; available: {', '.join(sorted(available))}",
                )

    async def shutdown(self) -> None:
        """Release network resources."""
        await self.provider.aclose()

