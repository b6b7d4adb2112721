"""Small text statistics for the report footer."""


def char_count(text: str) -> int:
    """Characters in `text`, whitespace included."""
    return len(text)


def line_count(text: str) -> int:
    """Lines in `text`; a last line without a newline still counts."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def word_count(text: str) -> int:
    """Words in `text`, separated by spaces."""
    return len(text.split(" "))
