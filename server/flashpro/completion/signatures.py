"""What a definition looks like, per language: one line of a file scanned into an outline entry.

:func:`scan` tells whether a definition starts at a given line of a file and returns it as an
:class:`Entry`: the text the outline shows (a signature with its continuation lines until the
brackets close, an assignment's first line without its comment, a type with its body), its
indentation, the name it defines, whether it is public (what another file may import), and the
attribute names a line uses through ``self.`` / ``this.``. Languages: Python, JavaScript /
TypeScript (``"js"``), Go (:func:`language_of`); :mod:`flashpro.completion.outline` assembles
the entries into a file's outline.

An entry looks at most :data:`MAX_SPAN` lines ahead (a signature's brackets must close within
:data:`SIGNATURE_LINES` lines, a type body within ``MAX_SPAN``); a line that comes back to the
first line's indentation before the brackets close (code still being typed) ends the entry at
its first line, so an unclosed bracket never swallows the code after it.
"""

from __future__ import annotations

import keyword
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MAX_SPAN", "SIGNATURE_LINES", "Entry", "indent_of", "language_of", "lead", "scan"]

MAX_SPAN = 30  # the most lines one entry spans
SIGNATURE_LINES = 20  # a signature's brackets must close within this many lines
_VALUE_CHARS = 72  # an assignment's line in the outline is cut to this many characters

_LANGUAGES: dict[str, str] = {
    "python": "python",
    "javascript": "js",
    "javascriptreact": "js",
    "typescript": "js",
    "typescriptreact": "js",
    "go": "go",
}
_EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "js",
    ".ts": "js", ".mts": "js", ".cts": "js", ".tsx": "js", ".go": "go",
}  # fmt: skip

_PY_DEF = re.compile(r"([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)")
_PY_ASSIGN = re.compile(r"([ \t]*)([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)")
_PY_ANNOTATED = re.compile(r"([ \t]*)([A-Za-z_]\w*)[ \t]*:[ \t]*[A-Za-z_\"'][^=\n]*$")
_PY_SELF = re.compile(r"\bself\.([A-Za-z_]\w*)")
_JS_FUNCTION = re.compile(
    r"([ \t]*)(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:async[ \t]+)?"
    r"function\b[ \t]*\*?[ \t]*([A-Za-z_$][\w$]*)"
)
_JS_CLASS = re.compile(
    r"([ \t]*)(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:abstract[ \t]+)?"
    r"class[ \t]+([A-Za-z_$][\w$]*)"
)
_JS_TYPE = re.compile(
    r"([ \t]*)(?:export[ \t]+)?(?:declare[ \t]+)?(?:const[ \t]+)?(interface|type|enum|namespace)"
    r"[ \t]+([A-Za-z_$][\w$]*)"
)
_JS_VAR = re.compile(r"()(?:export[ \t]+)?(?:declare[ \t]+)?(?:const|let|var)[ \t]+([A-Za-z_$][\w$]*)")
_JS_METHOD = re.compile(
    r"([ \t]+)(?:(?:public|private|protected|static|readonly|async|override|abstract|get|set)"
    r"[ \t]+)*(#?[A-Za-z_$][\w$]*)[ \t]*(?:<[^>\n]*>)?[ \t]*\("
)
_JS_THIS = re.compile(r"\bthis\.(#?[A-Za-z_$][\w$]*)")
_JS_NOT_METHODS = frozenset(
    "if for while switch catch return function typeof await new super this else do with yield "
    "delete void throw case".split()
)
_GO_FUNC = re.compile(r"()func[ \t]+(?:\([^)]*\)[ \t]*)?([A-Za-z_]\w*)")
_GO_TYPE = re.compile(r"()type[ \t]+([A-Za-z_]\w*)")
_GO_VAR = re.compile(r"()(?:var|const)[ \t]*(\(|[A-Za-z_]\w*)")
_STRINGS = re.compile(r"""'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?|`[^`\n]*`?""")
_OPEN = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


@dataclass(frozen=True, slots=True)
class Entry:
    """One definition: its text in the outline, where it sits, and what it names."""

    text: str  # the line(s) as shown, each ending with "\n"; "" for attribute entries
    indent: int  # width of the first line's leading whitespace
    name: str  # the name defined ("" for attribute entries)
    kind: str  # "def", "class", "type", "var", "attrs"
    span: int = 1  # document lines covered
    public: bool = True
    attrs: tuple[str, ...] = ()  # attribute names the line uses through self. / this.


def language_of(language_id: str = "", path: str = "") -> str | None:
    """"python", "js" or "go" for a language id (else a file name); None when not mapped."""
    found = _LANGUAGES.get(language_id.lower())
    if found is None and path:
        found = _EXTENSIONS.get(posixpath.splitext(path.lower())[1])
    return found


def _depth(line: str, brackets: str, comment: str) -> int:
    """Net bracket depth of one line (strings and the trailing comment ignored)."""
    if not any(char in line for char in brackets):
        return 0
    code = _STRINGS.sub("", line) if ("'" in line or '"' in line or "`" in line) else line
    cut = code.find(comment)
    if cut >= 0:
        code = code[:cut]
    return sum(_OPEN[char] for char in code if char in brackets)


def _block(lines: Sequence[str], i: int, brackets: str, comment: str, limit: int) -> tuple[str, int]:
    """Line `i` and the lines after it until the brackets opened there close (at most `limit`
    lines); only line `i` when they do not close in time, or when a line that is not a closing
    bracket comes back to line `i`'s indentation first (code still being typed). Returns
    (text, lines covered)."""
    depth = _depth(lines[i], brackets, comment)
    indent = indent_of(lead(lines[i]))
    end = i + 1
    while depth > 0 and end < len(lines) and end - i < limit:
        line = lines[end]
        stripped = line.strip()
        if stripped and indent_of(lead(line)) <= indent and stripped[0] not in ")]}":
            break
        depth += _depth(line, brackets, comment)
        end += 1
    if depth > 0:
        end = i + 1
    if end == i + 1:
        return lines[i].rstrip() + "\n", 1
    text = "".join(line.rstrip() + "\n" for line in lines[i:end])
    return text, end - i


def _short(line: str, comment: str) -> str:
    """An assignment's first line without its trailing comment, long values cut with "..."."""
    code = line.rstrip()
    cut = _STRINGS.sub(lambda m: "\0" * len(m.group(0)), code).find(comment)
    if cut > 0:
        code = code[:cut].rstrip()
    if len(code) > _VALUE_CHARS:
        code = code[: _VALUE_CHARS - 3].rstrip() + "..."
    return code + "\n"


def lead(text: str) -> str:
    """The leading whitespace of `text`."""
    return text[: len(text) - len(text.lstrip(" \t"))]


def indent_of(text: str) -> int:
    return len(text.expandtabs(4))


def _python(lines: Sequence[str], i: int) -> Entry | None:
    """A def / class (whole signature), an assignment or annotation, or a line using self."""
    line = lines[i]
    match = _PY_DEF.match(line)
    if match:
        text, span = _block(lines, i, "()[]{}", "#", SIGNATURE_LINES)
        name = match.group(3)
        public = not name.startswith("_") or name == "__init__"
        return Entry(text, indent_of(match.group(1)), name, match.group(2), span, public)
    names = ()
    if "self." in line:
        names = tuple(dict.fromkeys(_PY_SELF.findall(_STRINGS.sub("", line.split("#", 1)[0]))))
    indent = indent_of(line[: len(line) - len(line.lstrip())])
    match = _PY_ASSIGN.match(line) or _PY_ANNOTATED.match(line.rstrip())
    if match and match.group(2) not in ("self", "cls") and not keyword.iskeyword(match.group(2)):
        name = match.group(2)
        span = _block(lines, i, "()[]{}", "#", MAX_SPAN)[1]
        return Entry(_short(line, "#"), indent, name, "var", span, not name.startswith("_"), names)
    if names:
        return Entry("", indent, "", "attrs", 1, True, names)
    return None


def _js(lines: Sequence[str], i: int) -> Entry | None:
    """A function, class, type-like declaration, top-level variable, method, or use of this."""
    line = lines[i]
    exported = line.lstrip().startswith("export")
    for pattern, kind, brackets, limit in (
        (_JS_FUNCTION, "def", "()", SIGNATURE_LINES),
        (_JS_CLASS, "class", "", 1),
        (_JS_TYPE, "type", "{}()[]", MAX_SPAN),
    ):
        match = pattern.match(line)
        if match:
            text, span = _block(lines, i, brackets, "//", limit) if brackets else (line.rstrip() + "\n", 1)
            return Entry(text, indent_of(match.group(1)), match.groups()[-1], kind, span, exported)
    match = _JS_VAR.match(line)
    if match:
        text, span = _block(lines, i, "()", "//", SIGNATURE_LINES)
        return Entry(text, 0, match.group(2), "var", span, exported)
    match = _JS_METHOD.match(line)
    if match and match.group(2) not in _JS_NOT_METHODS:
        text, span = _block(lines, i, "()", "//", SIGNATURE_LINES)
        inside = text[match.end() :]
        if text.rstrip().endswith("{") and "=>" not in inside and not re.search(r"['\"`]", inside):
            name = match.group(2)
            private = name.startswith("#") or re.match(r"[ \t]*(?:\w+[ \t]+)*private\b", line) is not None
            return Entry(text, indent_of(match.group(1)), name, "def", span, not private)
    if "this." in line:
        names = tuple(dict.fromkeys(_JS_THIS.findall(_STRINGS.sub("", line.split("//", 1)[0]))))
        if names:
            return Entry("", indent_of(line[: len(line) - len(line.lstrip())]), "", "attrs", 1, True, names)
    return None


def _go(lines: Sequence[str], i: int) -> Entry | None:
    """A func (methods too), a type with its body, a top-level var / const (blocks too)."""
    line = lines[i]
    for pattern, kind, brackets, limit in (
        (_GO_FUNC, "def", "()", SIGNATURE_LINES),
        (_GO_TYPE, "type", "{}()", MAX_SPAN),
        (_GO_VAR, "var", "()", MAX_SPAN),
    ):
        match = pattern.match(line)
        if match:
            text, span = _block(lines, i, brackets, "//", limit)
            name = match.group(2)
            return Entry(text, 0, name, kind, span, name[:1].isupper() or name == "(")
    return None


_SCANNERS = {"python": _python, "js": _js, "go": _go}


def scan(lines: Sequence[str], i: int, language: str) -> Entry | None:
    """The definition that starts at line `i`, if any."""
    return _SCANNERS[language](lines, i)
