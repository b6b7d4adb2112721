"""Sign-up form handling."""

import re
from dataclasses import dataclass

_USERNAME = re.compile(r"[A-Za-z0-9_]{3,20}")


@dataclass(frozen=True)
class Account:
    username: str
    age: int


def make_account(username: str, age: int) -> Account:
    """An account from the sign-up form's fields; ValueError names the field that is wrong."""
    name = username.strip()
    if not _USERNAME.fullmatch(name):
        raise ValueError("username must be 3-20 letters, digits or underscores")
    if isinstance(age, bool) or not isinstance(age, int) or not 13 <= age <= 120:
        raise ValueError("age must be a whole number from 13 to 120")
    return Account(name, age)
