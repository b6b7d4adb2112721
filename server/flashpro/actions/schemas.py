"""The JSON shapes the models must answer with, validated by pydantic, with prompt examples.

Model output is data: these models only describe text to show or to offer as an edit; nothing
in an answer is ever run. Line numbers are 1-based, as in the numbered file the model sees.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Decision",
    "Design",
    "DesignStep",
    "Finding",
    "QuickEditAnswer",
    "Review",
    "TestsAnswer",
]


class _Answer(BaseModel):
    """Lenient about extra keys, strict about the ones we use."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class Finding(_Answer):
    """One review finding, anchored on lines and optionally on an exact snippet within them."""

    line_start: int = Field(ge=1)
    line_end: int = Field(ge=1)
    snippet: str | None = None
    severity: Literal["error", "warning", "information", "hint"] = "warning"
    category: str = Field("general", max_length=40)
    message: str = Field(min_length=1, max_length=2000)
    replacement: str | None = None

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        """Accept the usual synonyms (`info`, `warn`, `critical`)."""
        aliases = {"info": "information", "warn": "warning", "critical": "error", "note": "hint"}
        return aliases.get(str(value).lower(), str(value).lower()) if value is not None else value


class Review(_Answer):
    """The answer to "Review this"."""

    findings: list[Finding] = Field(max_length=100)


class Decision(_Answer):
    decision: str = Field(min_length=1)
    reason: str = ""


class DesignStep(_Answer):
    title: str = Field(min_length=1)
    detail: str = ""
    files: list[str] = Field(default_factory=list)


class Design(_Answer):
    """The answer to "Design this"."""

    goal: str = Field(min_length=1)
    decisions: list[Decision] = Field(default_factory=list)
    steps: list[DesignStep] = Field(min_length=1)
    risks: list[str] = Field(default_factory=list)
    acceptance: list[str] = Field(default_factory=list)


class QuickEditAnswer(_Answer):
    """The answer to "Quick edit": the selection's new text."""

    replacement: str


class TestsAnswer(_Answer):
    """The answer to "Write tests for this": one test file."""

    path: str = Field(min_length=1, max_length=300)
    content: str = Field(min_length=1)
