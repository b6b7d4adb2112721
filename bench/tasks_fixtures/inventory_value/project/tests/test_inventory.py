import pytest

from inventory import Inventory


def test_value_is_price_times_quantity():
    stock = Inventory()
    stock.add("pen", 150, 4)
    stock.add("pad", 300)
    assert stock.total_value() == 900


def test_an_empty_inventory_is_worth_nothing():
    assert Inventory().total_value() == 0


def test_removing_lowers_the_value():
    stock = Inventory()
    stock.add("pen", 150, 4)
    stock.remove("pen", 3)
    assert stock.total_value() == 150
    with pytest.raises(ValueError):
        stock.remove("pen", 2)
