"""Inline (FIM) completion: context, post-processing, and the request service."""

from __future__ import annotations

from flashpro.completion.context import FimContext
from flashpro.completion.layout import Layout, build_layout
from flashpro.completion.service import CompletionEvents, CompletionService, Suggestion

__all__ = [
    "CompletionEvents",
    "CompletionService",
    "FimContext",
    "Layout",
    "Suggestion",
    "build_layout",
]
