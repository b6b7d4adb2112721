"""Formatting of amounts kept in cents."""


def format_price(cents: int, symbol: str = "$") -> str:
    """`123456` -> `$1,234.56`; a negative amount gets a leading minus: `-$0.05`."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{symbol}{sign}{whole:,}.{rest:02d}"


def format_total(lines: list[int], symbol: str = "$") -> str:
    """The sum of invoice lines, formatted."""
    return format_price(sum(lines), symbol=symbol)
