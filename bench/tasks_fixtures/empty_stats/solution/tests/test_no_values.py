import pytest

from stats import mean, spread


@pytest.mark.parametrize("function", [mean, spread])
def test_no_values_is_a_value_error_naming_the_function(function):
    with pytest.raises(ValueError, match=f"^{function.__name__} of no values$"):
        function([])
