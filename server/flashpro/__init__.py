"""flashpro: a language server that makes AI coding token-efficient."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
