from textstats import char_count, line_count, word_count


def test_words_are_separated_by_any_whitespace():
    assert word_count("one two\tthree\nfour") == 4
    assert word_count("  spaced   out  ") == 2


def test_blank_text_has_no_words():
    assert word_count("") == 0
    assert word_count(" \n\t") == 0


def test_the_other_counts_are_unchanged():
    assert char_count("ab c") == 4
    assert line_count("a\nb") == 2
