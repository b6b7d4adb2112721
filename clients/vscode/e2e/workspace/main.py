"""A small module for the flashpro end-to-end test."""


def add(a, b):
    if a == None:
        return b
    return a + b


# TODO: cache the answer
