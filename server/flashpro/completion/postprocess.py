"""Turning raw FIM output into suggestions worth showing.

Rules, in order: drop empty output; when text follows the cursor on its line, keep one line and
strip the longest overlap between its end and that text (so `foo(|)` + `a, b)` inserts `a, b`);
otherwise drop trailing lines that repeat the lines right after the cursor; drop what is left
if it is only whitespace.
"""

from __future__ import annotations

__all__ = ["first_line", "strip_line_overlap", "strip_suffix_overlap", "tidy"]


def strip_suffix_overlap(text: str, after: str) -> str:
    """Remove the longest end of `text` that the document already has right after the cursor."""
    limit = min(len(text), len(after))
    for size in range(limit, 0, -1):
        if text.endswith(after[:size]):
            return text[: len(text) - size]
    return text


def strip_line_overlap(text: str, after: str) -> str:
    """Drop the trailing whole lines of `text` that repeat the first lines of `after`."""
    ours = text.rstrip().split("\n")
    theirs = [line.rstrip() for line in after.lstrip("\r\n").split("\n")]
    for size in range(min(len(ours) - 1, len(theirs)), 0, -1):
        if [line.rstrip() for line in ours[-size:]] == theirs[:size]:
            return "\n".join(ours[:-size])
    return text


def first_line(text: str) -> str:
    """The text up to (not including) its first line break."""
    for index, char in enumerate(text):
        if char in "\r\n":
            return text[:index]
    return text


def tidy(raw: str, line_rest: str, after: str) -> str:
    """Post-process one completion; returns "" when nothing is worth showing."""
    text = raw
    if line_rest.strip():
        text = first_line(text)
        text = strip_suffix_overlap(text, line_rest)
    else:
        text = strip_line_overlap(text, after).rstrip()
    if not text.strip():
        return ""
    return text
