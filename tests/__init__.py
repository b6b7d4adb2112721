"""Test suite of flashpro (a package so that `tests.fakes` is importable)."""
