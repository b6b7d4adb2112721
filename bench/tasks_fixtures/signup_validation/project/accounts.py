"""Sign-up form handling."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    username: str
    age: int


def make_account(username: str, age: int) -> Account:
    """An account from the sign-up form's fields."""
    # TODO: validate the input: the username (surrounding spaces stripped) must be 3-20 letters,
    # digits or underscores, and the age a whole number from 13 to 120 (not a bool or a string);
    # raise ValueError with a message that starts with the field's name.
    return Account(username.strip(), age)
