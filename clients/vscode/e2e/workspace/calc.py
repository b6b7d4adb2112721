"""Arithmetic for the flashpro end-to-end test's task ("Implement this")."""


def add(a, b):
    return a + b


# TODO: sub(a, b) returns a - b
