import pytest

from stats import mean, spread


@pytest.mark.parametrize("function", [mean, spread])
def test_no_values_is_a_value_error(function):
    with pytest.raises(ValueError, match="empty"):
        function([])
