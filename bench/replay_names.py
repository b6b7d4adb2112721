"""Grounding for the replay's fake model: which project names an answer needs, and which of them
the request showed.

A real model cannot write a project-specific name that appears nowhere in its prompt or suffix:
when the true continuation needs such a name, it gets that name wrong. The grounded fake model
(`replay_scenarios.FakeModel(grounded=True)`) follows that rule with these definitions:

* the names an answer *needs*: identifiers in the code of the answer (string literals and
  comments left out; an identifier the user has started typing counts whole), minus the names
  the answer binds itself (assignment and ``for`` targets, ``as``, ``lambda`` and ``def``
  parameters, walrus: a model invents those), minus the names every model knows: Python keywords, builtins, attributes of builtin types (``append``,
  ``startswith``...), standard-library module names and the public names of the
  standard-library modules the scenario's file imports (with their classes' attributes), and
  ``self`` / ``cls``. The scenario's own module is project code, never "known";
* a needed name is *seen* when it occurs as a whole identifier anywhere in the request's prompt
  or suffix (the map, extra snippets, the file text: whatever the strategy sent);
* an unseen name is written wrong: every occurrence gets a trailing ``_`` (never a prefix of
  the true text, so such an answer is never accepted beyond what precedes the wrong name).

So a fresh local the answer introduces (``[c for c in chunks]``) is not needed, while one bound
earlier in the block is visible once typed.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import keyword
import re
import sys
from functools import lru_cache

__all__ = ["bound_names", "known_names", "mangle", "needed_names", "visible_names"]

_WORD = re.compile(r"[A-Za-z_]\w*")
# A string literal (triple quotes first, prefixes allowed) or a comment.
_NOT_CODE = re.compile(
    r"""(?:\b[rRbBuUfF]{1,2})?(?:'''[\s\S]*?(?:'''|$)|\"\"\"[\s\S]*?(?:\"\"\"|$)"""
    r"""|'(?:\\.|[^'\\\n])*(?:'|$)|"(?:\\.|[^"\\\n])*(?:"|$))|\#[^\n]*""",
    re.M,
)
_TYPES = (
    str, bytes, bytearray, list, dict, set, frozenset, tuple, int, float, complex, bool,
    object, type, range, slice, memoryview, BaseException, Exception,
)  # fmt: skip


@lru_cache(maxsize=1)
def _base_known() -> frozenset[str]:
    names = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) | {"self", "cls"}
    for kind in _TYPES:
        names.update(dir(kind))
    names.update(sys.stdlib_module_names)
    return frozenset(names)


@lru_cache(maxsize=64)
def _module_names(module: str) -> frozenset[str]:
    """Public names of a standard-library module and attributes of its classes."""
    try:
        loaded = importlib.import_module(module)
    except Exception:  # noqa: BLE001 - an unimportable module contributes nothing
        return frozenset()
    names: set[str] = set()
    for name in dir(loaded):
        names.add(name)
        value = getattr(loaded, name, None)
        if isinstance(value, type):
            names.update(dir(value))
    return frozenset(names)


def known_names(source: str, own_module: str, workspace: frozenset[str] = frozenset()) -> frozenset[str]:
    """Names any model knows when completing `source` (a module named `own_module`): the
    base set plus the standard-library modules it imports, except `own_module` and any module
    in `workspace` (those are project code)."""
    names = set(_base_known())
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return frozenset(names)
    project = {own_module, *workspace}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [node.module]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top in sys.stdlib_module_names and top not in project and module not in project:
                names.update(_module_names(module))
    return frozenset(names - project)


_TARGETS = r"([A-Za-z_][\w \t,()*]*?)"
_BINDINGS = (
    re.compile(r"\bfor\s+" + _TARGETS + r"\s+in\b"),
    re.compile(r"(?m)^[ \t]*([A-Za-z_][\w \t,*]*?)[ \t]*(?:[-+*/%&|^@]|//|>>|<<|\*\*)?=(?!=)"),
    re.compile(r"\bas\s+([A-Za-z_]\w*)"),
    re.compile(r"([A-Za-z_]\w*)\s*:="),
    re.compile(r"\blambda\b([^:\n]*):"),
    re.compile(r"\b(?:def|class)\s+([A-Za-z_]\w*)\s*\(?([^)\n]*)"),
)


def bound_names(code: str) -> set[str]:
    """Names `code` binds itself (see the module docstring)."""
    names: set[str] = set()
    for pattern in _BINDINGS:
        for match in pattern.finditer(code):
            for group in match.groups():
                if group:
                    if pattern is _BINDINGS[-1] or pattern is _BINDINGS[-2]:  # parameter lists
                        names.update(re.findall(r"(?<![=.\w])([A-Za-z_]\w*)(?=\s*(?:[,:=)]|$))", group))
                    else:
                        names.update(_WORD.findall(group))
    return names


def _code_spans(text: str) -> str:
    """`text` with string literals and comments blanked (same length, line breaks kept)."""
    return _NOT_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def needed_names(line_start: str, answer: str, known: frozenset[str]) -> list[str]:
    """Project names (not `known`) in the code of `answer`, in order, each once. `line_start`
    is the cursor line up to the cursor: it decides whether the answer starts inside a string
    and completes an identifier the user has started."""
    code = _code_spans(line_start + answer)
    bound = bound_names(code)
    found: dict[str, None] = {}
    for match in _WORD.finditer(code):
        if match.end() <= len(line_start):
            continue  # typed already
        start = match.start()
        if start > 0 and code[start - 1].isdigit():
            continue  # 0x1f, 1e10
        name = match.group(0)
        if name not in known and name not in bound:
            found[name] = None
    return list(found)


def visible_names(*texts: str) -> set[str]:
    """Every identifier in `texts` (prompt, suffix)."""
    names: set[str] = set()
    for text in texts:
        names.update(_WORD.findall(text))
    return names


def mangle(answer: str, line_start: str, names: list[str]) -> str:
    """`answer` with every occurrence of `names` that reaches into it written wrong (a trailing
    "_"); an identifier the user has started typing is completed wrong as well."""
    if not names:
        return answer
    wanted = set(names)
    text = line_start + answer
    cut = len(line_start)
    pieces: list[str] = []
    last = cut
    for match in _WORD.finditer(text):
        if match.end() <= cut or match.group(0) not in wanted:
            continue
        if match.start() > 0 and text[match.start() - 1].isdigit():
            continue
        pieces += [text[last : match.end()], "_"]
        last = match.end()
    return "".join(pieces) + text[last:]
