import pytest

from stats import mean, spread


def test_mean_and_spread():
    assert mean([1, 2, 3, 6]) == 3
    assert spread([4, -1, 7]) == 8


def test_no_values_is_a_value_error():
    with pytest.raises(ValueError, match="no values"):
        mean([])
    with pytest.raises(ValueError, match="no values"):
        spread([])
