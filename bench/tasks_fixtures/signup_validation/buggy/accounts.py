"""Sign-up form handling."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    username: str
    age: int


def make_account(username: str, age: int) -> Account:
    """An account from the sign-up form's fields; ValueError names the field that is wrong."""
    name = username.strip()
    if not 3 <= len(name) <= 20:
        raise ValueError("username must be 3-20 characters")
    if not 13 <= age <= 120:
        raise ValueError("age must be from 13 to 120")
    return Account(name, age)
