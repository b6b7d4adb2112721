import pytest

from accounts import Account, make_account


def test_a_valid_form_makes_an_account():
    assert make_account("  ada_99 ", 36) == Account("ada_99", 36)


@pytest.mark.parametrize("username", ["ab", "x" * 21, "ada lovelace", "ada!", ""])
def test_bad_usernames_are_refused(username):
    with pytest.raises(ValueError, match="^username"):
        make_account(username, 30)


@pytest.mark.parametrize("age", [12, 121, -1, "30", 30.5, True])
def test_bad_ages_are_refused(age):
    with pytest.raises(ValueError, match="^age"):
        make_account("ada", age)
