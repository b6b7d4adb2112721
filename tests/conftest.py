"""Shared fixtures: the fake DeepSeek server (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

from tests.fakes import fake_deepseek

__all__ = ["fake_deepseek"]
