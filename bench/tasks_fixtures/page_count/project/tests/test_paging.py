import pytest

from paging import page, page_count


def test_a_partly_filled_last_page_counts():
    assert page_count(10, 3) == 4
    assert page(list(range(10)), 4, 3) == [9]


def test_full_pages_and_no_items():
    assert page_count(9, 3) == 3
    assert page_count(0, 3) == 0
    assert page([], 1, 3) == []


def test_size_must_be_positive():
    with pytest.raises(ValueError):
        page_count(5, 0)
