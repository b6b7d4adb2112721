"""Formatting of amounts kept in cents."""


def format_price(cents: int) -> str:
    """`123456` -> `$1,234.56`; a negative amount gets a leading minus: `-$0.05`."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{rest:02d}"


def format_total(lines: list[int]) -> str:
    """The sum of invoice lines, formatted."""
    return format_price(sum(lines))


# TODO: format_price takes a keyword argument `symbol` (default "$") so that invoices in other
# currencies can use it: format_price(500, symbol="€") -> "€5.00", format_price(-5, symbol="£")
# -> "-£0.05". format_total passes its own `symbol` (same default) through.
