from money import format_price, format_total


def test_dollars_by_default():
    assert format_price(123456) == "$1,234.56"
    assert format_price(-5) == "-$0.05"


def test_other_currency_symbols():
    assert format_price(500, symbol="€") == "€5.00"
    assert format_price(-5, symbol="£") == "-£0.05"


def test_totals_pass_the_symbol_through():
    assert format_total([250, 250]) == "$5.00"
    assert format_total([250, 250], symbol="€") == "€5.00"
