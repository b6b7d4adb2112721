"""Small text statistics for the report footer."""


def char_count(text: str) -> int:
    """Characters in `text`, whitespace included."""
    return len(text)


def line_count(text: str) -> int:
    """Lines in `text`; a last line without a newline still counts."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


# TODO: word_count(text) -> int: the number of words in text, where words are separated by
# any run of whitespace (spaces, tabs, newlines); an empty or blank text has no words.
