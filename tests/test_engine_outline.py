"""The current file's outline: what it lists, that it is byte-stable while typing and changes only
where a definition changed, that it is kept incrementally (equal to a fresh scan after any
edit), and that it stays within its cap."""

from __future__ import annotations

import random

from flashpro.completion.layout import shared_counter
from flashpro.completion.outline import Outlines, language_of, public_outline
from flashpro.documents import Position, TextBuffer, split_lines

URI = "file:///proj/shapes.py"

PYTHON = '''"""Shapes."""
import math

SCALE = 2


class Circle:
    kind = "round"

    def __init__(self, radius,
                 colour="red"):
        self.radius = radius
        self.colour = colour

    def area(self):
        total = math.pi * self.radius ** 2
        return total * SCALE


def _helper(x):
    return x


def bounding_box(shape, margin=0):
    return shape.radius * 2 + margin
'''


class Doc:
    """A buffer with a version, edited the way the server edits documents."""

    def __init__(self, text: str, outlines: Outlines, uri: str = URI) -> None:
        self.buffer = TextBuffer(text)
        self.version = 1
        self.outlines = outlines
        self.uri = uri

    def type(self, line: int, column: int, text: str) -> None:
        self.replace(line, column, line, column, text)

    def replace(self, line: int, column: int, end_line: int, end_column: int, text: str) -> None:
        self.buffer.edit(Position(line, column), Position(end_line, end_column), text)
        self.version += 1
        self.outlines.edited(self.uri, [line])

    def outline(self, cursor: int, cap: int = 100_000, language: str = "python") -> list[str]:
        lines, tokens, _ = self.outlines.outline(
            self.uri, language, self.buffer, self.version, cursor, cap, shared_counter()
        )
        assert tokens == shared_counter().count_lines(lines) and tokens <= cap
        return lines


def test_python_outline_lists_every_definition_top_to_bottom() -> None:
    doc = Doc(PYTHON, Outlines())
    assert "".join(doc.outline(cursor=0)) == (
        "SCALE = 2\n"
        "class Circle:\n"
        "    # self.radius, self.colour\n"
        '    kind = "round"\n'
        "    def __init__(self, radius,\n"
        '                 colour="red"):\n'
        "    def area(self):\n"  # its local `total` is not a definition of the file
        "def _helper(x):\n"
        "def bounding_box(shape, margin=0):\n"
    )


def test_outline_is_byte_identical_while_typing_in_a_block_and_changes_only_at_a_definition() -> None:
    doc = Doc(PYTHON, Outlines())
    body = PYTHON.split("\n").index("        return total * SCALE")
    first = doc.outline(body)
    column = len("        return total * SCALE")
    for char in " + 1":  # typing inside a function body
        doc.type(body, column, char)
        column += 1
        assert doc.outline(body) == first
    doc.type(body, column, "\n        ")
    column = 8
    for char in "self.width = 2":  # a new attribute: the outline waits until the line is left
        doc.type(body + 1, column, char)
        column += 1
        assert doc.outline(body + 1) == first
    doc.type(body + 1, column, "\n        ")
    assert doc.outline(body + 2) == first  # still in the method: its attributes are in the window
    with_width = doc.outline(doc.buffer.line_count - 1)  # once the cursor is out of the method
    assert with_width == [first[0], first[1], "    # self.radius, self.colour, self.width\n", *first[3:]]
    doc.replace(body + 1, 0, body + 2, 8, "")  # the attribute line removed again
    first = doc.outline(body + 1)
    doc.type(body + 1, 0, "        width = self.radius")  # a new local: no definition of the file
    assert doc.outline(body + 1) == first
    # A new method below the cursor: exactly one line more, in its place.
    doc.type(body + 1, len("        width = self.radius"), "\n\n    def perimeter(self):\n        return 0")
    second = doc.outline(body + 1)
    assert second == first[:6] + ["    def perimeter(self):\n"] + first[6:]


def test_the_definition_being_typed_joins_the_outline_when_the_cursor_leaves_it() -> None:
    doc = Doc(PYTHON, Outlines())
    end = PYTHON.count("\n")
    before = doc.outline(end)
    doc.type(end, 0, "def grow(shape, factor")
    assert doc.outline(end) == before  # typing the signature: the outline does not move
    doc.type(end, len("def grow(shape, factor"), "):\n    ")
    assert doc.outline(end + 1) == [*before, "def grow(shape, factor):\n"]


def test_names_below_the_cursor_are_in_the_outline() -> None:
    doc = Doc(PYTHON, Outlines())
    assert any("bounding_box(shape, margin=0)" in line for line in doc.outline(cursor=3))
    # When the prompt holds the file down to a line, only what starts after it is needed.
    lines, _, _ = doc.outlines.outline(URI, "python", doc.buffer, doc.version, 3, 10_000, shared_counter(), after=19)
    assert lines == ["def _helper(x):\n", "def bounding_box(shape, margin=0):\n"]


def test_incremental_outline_equals_a_fresh_scan_after_any_edit() -> None:
    rng = random.Random(12)
    outlines = Outlines()
    doc = Doc(PYTHON * 3, outlines)
    pieces = ["x", "\n", "def f(a):\n    ", "class K:\n", "    self.q = 1\n", "(", ")", "", "  "]
    for step in range(200):
        lines = doc.buffer.line_count
        line = rng.randrange(lines)
        column = rng.randrange(len(doc.buffer.line_content(line)) + 1)
        if rng.random() < 0.3 and line + 1 < lines:  # delete across a line break
            doc.replace(line, column, line + 1, 0, rng.choice(pieces))
        else:
            doc.type(line, column, rng.choice(pieces))
        if step % 5 == 0:
            cursor = rng.randrange(doc.buffer.line_count)
            fresh = Doc(doc.buffer.text, Outlines())
            assert doc.outline(cursor) == fresh.outline(cursor), step
            assert doc.outline(cursor, cap=60) == fresh.outline(cursor, cap=60), step


def test_an_outline_over_its_cap_keeps_what_is_near_the_cursor_and_top_level() -> None:
    source = "".join(f"def top_{i}(a, b):\n    return a\n\n" for i in range(400))
    source += "class Far:\n" + "".join(f"    def method_{i}(self):\n        pass\n" for i in range(300))
    doc = Doc(source, Outlines())
    lines = doc.outline(cursor=1400, cap=300)
    assert lines and shared_counter().count_lines(lines) <= 300
    assert lines == sorted(lines, key=lambda text: source.index(text.strip()))  # file order
    assert lines[0] == "class Far:\n"  # the class around the cursor first: its line, its members
    assert len(lines) > 10 and all(line.startswith("    def method_") for line in lines[1:])
    assert "    def method_60(self):\n" in lines  # members on the cursor's page of definitions


def test_javascript_typescript_and_go_outlines() -> None:
    ts = (
        "import { x } from './x';\n"
        "export interface Point {\n  x: number;\n  y: number;\n}\n"
        "export class Box {\n  private size: number;\n  constructor(size: number) {\n    this.size = size;\n"
        "    this.label = 'box';\n  }\n  area(): number {\n    if (this.size) {\n      return 1;\n    }\n"
        "    return helper(this.size);\n  }\n}\n"
        "function helper(n: number): number {\n  return n;\n}\n"
        "export const LIMIT = 10;\n"
    )
    doc = Doc(ts, Outlines(), "file:///proj/box.ts")
    assert "".join(doc.outline(0, language="js")) == (
        "export interface Point {\n  x: number;\n  y: number;\n}\n"
        "export class Box {\n"
        "  // this.size, this.label\n"
        "  constructor(size: number) {\n"
        "  area(): number {\n"
        "function helper(n: number): number {\n"
        "export const LIMIT = 10;\n"
    )
    go = (
        "package geo\n\nimport \"math\"\n\n"
        "type Point struct {\n\tX, Y float64\n}\n\n"
        "func (p Point) Norm() float64 {\n\treturn math.Hypot(p.X, p.Y)\n}\n\n"
        "func scale(p Point, f float64) Point {\n\treturn Point{p.X * f, p.Y * f}\n}\n"
        "const Origin = 0\n"
    )
    doc = Doc(go, Outlines(), "file:///proj/geo.go")
    assert "".join(doc.outline(0, language="go")) == (
        "type Point struct {\n\tX, Y float64\n}\n"
        "func (p Point) Norm() float64 {\n"
        "func scale(p Point, f float64) Point {\n"
        "const Origin = 0\n"
    )
    assert public_outline(split_lines(go), "go") == [
        "type Point struct {\n\tX, Y float64\n}\n",
        "func (p Point) Norm() float64 {\n",
        "const Origin = 0\n",
    ]
    assert public_outline(split_lines(ts), "js")[:2] == ["export interface Point {\n  x: number;\n  y: number;\n}\n", "export class Box {\n"]
    assert not any("helper" in line for line in public_outline(split_lines(ts), "js"))


def test_public_python_outline_and_languages_without_one() -> None:
    assert public_outline(split_lines(PYTHON), "python") == [
        "SCALE = 2\n",
        "class Circle:\n",
        "    # self.radius, self.colour\n",
        '    kind = "round"\n',
        "    def __init__(self, radius,\n                 colour=\"red\"):\n",
        "    def area(self):\n",
        "def bounding_box(shape, margin=0):\n",
    ]
    assert language_of("python") == "python" and language_of("typescriptreact") == "js"
    assert language_of("", "/p/main.go") == "go" and language_of("rust", "/p/lib.rs") is None


def test_outlines_reused_while_typing_equal_a_fresh_scan() -> None:
    rng = random.Random(5)
    doc = Doc(PYTHON * 4, Outlines())
    line = PYTHON.count("\n") + 16  # inside `area` of the second copy
    column = len(doc.buffer.line_content(line))
    words = ["x", " = ", "self.", "size", "(", ")", "def g(a):", "class Q:", "return", "#", "'s'"]
    for step in range(300):
        roll = rng.random()
        if roll < 0.15:  # Enter, keeping the indentation
            text = "\n" + " " * rng.choice((4, 8, 12))
            doc.type(line, column, text)
            line, column = line + 1, len(text) - 1
        elif roll < 0.2 and column > 0:  # backspace
            doc.replace(line, column - 1, line, column, "")
            column -= 1
        elif roll < 0.25:  # move the cursor
            line = rng.randrange(doc.buffer.line_count)
            column = len(doc.buffer.line_content(line))
        else:
            text = rng.choice(words)
            doc.type(line, column, text)
            column += len(text)
        fresh = Doc(doc.buffer.text, Outlines())
        assert doc.outline(line) == fresh.outline(line), step
        assert doc.outline(line, cap=80) == fresh.outline(line, cap=80), step
        after = [
            d.outlines.outline(d.uri, "python", d.buffer, d.version, line, 10_000, shared_counter(), line + 3)[0]
            for d in (doc, fresh)
        ]
        assert after[0] == after[1], step
