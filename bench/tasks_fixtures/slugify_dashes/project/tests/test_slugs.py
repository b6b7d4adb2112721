from slugs import slugify, unique_slug


def test_punctuation_and_spaces_become_one_dash():
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("  Crème brûlée  ") == "creme-brulee"
    assert slugify("a -- b") == "a-b"


def test_nothing_left_is_empty():
    assert slugify("---") == ""
    assert unique_slug("!!!", set()) == "article"


def test_unique_slugs_count_up():
    assert unique_slug("Hello, World!", {"hello-world", "hello-world-2"}) == "hello-world-3"
