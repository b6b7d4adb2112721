"""URL slugs for article titles."""

import re
import unicodedata


def slugify(title: str) -> str:
    """`"Hello, World!"` -> `"hello-world"`: lower-case ASCII letters and digits, single dashes."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def unique_slug(title: str, taken: set[str]) -> str:
    """`slugify(title)`, with `-2`, `-3`, ... appended until it is not in `taken`."""
    base = slugify(title) or "article"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug
