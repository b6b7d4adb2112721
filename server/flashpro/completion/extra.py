"""Extra FIM context that earns its tokens: other open files and recently edited regions.

This module owns which snippets of *other* documents go ahead of the current file in the
prompt, and in what order. Candidates, in priority order:

1. files the current file imports (Python ``import`` / ``from``, JS/TS ``import`` / ``export
   ... from`` / ``require`` / ``import()``, Go ``import``), parsed from the head of the
   current file and matched to open documents by path, else (with ``modules``) to files on
   disk inside the workspace (:class:`flashpro.completion.workspace.WorkspaceModules`, which
   applies the exclusion globs and the secret check itself); each becomes an *outline* of its
   public definitions (:func:`flashpro.completion.outline.public_outline`; every definition
   line for languages without one) or, when it has too few, its first lines;
2. recently edited regions of other documents (aligned chunks of ``region_lines`` lines, most
   recent first).

Order is sticky, because the snippets form the start of the cached prompt head: a snippet
once selected for a current file keeps its position until its text changes, its document is
closed or becomes private, or the budget no longer reaches it (then it and everything after it
go). New candidates are appended at the end, never inserted. Documents that are private
(excluded by the user's globs, secret-looking, binary) and snippet text that looks like a
secret never appear. Memory is bounded: tracked documents, recent regions, per-file
selections and cached snippet texts all have fixed caps.

Token counts are of the rendered snippet (header + text) with the comment style of the
current file's extension; :func:`flashpro.completion.layout.build_layout` re-checks them
exactly against its own budget.
"""

from __future__ import annotations

import posixpath
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flashpro.completion.layout import Snippet, comment_style, render_snippet
from flashpro.completion.outline import language_of, public_outline_spans
from flashpro.completion.workspace import WorkspaceModules
from flashpro.documents import Document, looks_secret, relative_label, uri_to_path
from flashpro.tokens import count

__all__ = ["ExtraContext", "imported_paths"]

_PY_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([\w \t,.*]*)", re.M)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w \t,.]+)", re.M)
_JS = re.compile(
    r"""(?:\bfrom\s*|^\s*import\s*|\brequire\(\s*|\bimport\(\s*)['"]([^'"\n]+)['"]""", re.M
)
_GO_ONE = re.compile(r'^[ \t]*import[ \t]+(?:[\w.]+[ \t]+)?"([^"\n]+)"', re.M)
_GO_BLOCK = re.compile(r"^[ \t]*import[ \t]*\(([^)]*)\)", re.M)
_GO_SPEC = re.compile(r'"([^"\n]+)"')
_JS_EXT = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
_DEFINITION = re.compile(
    r"^[ \t]*(?:export[ \t]+(?:default[ \t]+)?)?(?:pub(?:\([\w:]+\))?[ \t]+)?(?:async[ \t]+)?"
    r"(?:def|class|function|func|interface|type|struct|enum|trait|impl|fn|module|record)\b"
)


def _strip_js_ext(spec: str) -> str:
    for ext in _JS_EXT:
        if spec.endswith(ext):
            return spec[: -len(ext)]
    return spec


def imported_paths(current_path: str, head: str) -> list[tuple[str, bool]]:
    """Import targets in the order they appear, as (path stem, exact) pairs.

    A stem has no extension. `exact` stems are absolute (resolved relative to the current
    file); the others match any open file whose stem ends with "/" + stem. Go imports name a
    directory: their stems end with "/" and match the files inside it.
    """
    directory = posixpath.dirname(current_path)
    ext = posixpath.splitext(current_path)[1].lower()
    if ext in (".py", ".pyi"):
        found = _python_imports(directory, head)
    elif ext == ".go":
        found = _go_imports(head)
    else:
        found = _js_imports(directory, head)
    found.sort(key=lambda item: item[0])
    return list(dict.fromkeys((stem, exact) for _, stem, exact in found if stem.strip("/")))


def _python_imports(directory: str, head: str) -> list[tuple[int, str, bool]]:
    """(offset, stem, exact) for `from m import a, b` (m, m/a, m/b) and `import m.n`."""
    found: list[tuple[int, str, bool]] = []
    for match in _PY_FROM.finditer(head):
        module = match.group(1)
        dots = len(module) - len(module.lstrip("."))
        stem = "/".join(part for part in module.lstrip(".").split(".") if part)
        targets = [stem] if stem else []
        targets += [f"{stem}/{name}" if stem else name for name in _names(match.group(2))]
        base = directory
        for _ in range(max(dots - 1, 0)):
            base = posixpath.dirname(base)
        for target in targets:
            path = posixpath.join(base, target) if dots else target
            exact = bool(dots)
            found += [(match.start(), path, exact), (match.start(), path + "/__init__", exact)]
    for match in _PY_IMPORT.finditer(head):
        found += [(match.start(), name.replace(".", "/"), False) for name in _names(match.group(1))]
    return found


def _go_imports(head: str) -> list[tuple[int, str, bool]]:
    """(offset, "import/path/", False) for single and grouped Go imports."""
    found = [(m.start(), m.group(1).rstrip("/") + "/", False) for m in _GO_ONE.finditer(head)]
    for match in _GO_BLOCK.finditer(head):
        for quoted in _GO_SPEC.finditer(match.group(1)):
            found.append((match.start() + quoted.start(), quoted.group(1).rstrip("/") + "/", False))
    return found


def _js_imports(directory: str, head: str) -> list[tuple[int, str, bool]]:
    """(offset, stem, exact): relative specifiers resolved (also as folder/index), others bare."""
    found: list[tuple[int, str, bool]] = []
    for match in _JS.finditer(head):
        spec = _strip_js_ext(match.group(1))
        if spec.startswith("."):
            resolved = posixpath.normpath(posixpath.join(directory, spec))
            found += [(match.start(), resolved, True), (match.start(), resolved + "/index", True)]
        elif not spec.startswith(("node:", "http:", "https:")):
            found.append((match.start(), spec.lstrip("@~/"), False))
    return found


def _names(text: str) -> list[str]:
    """Module names of an import list: `a.b as c, d` gives [a.b, d]."""
    names = []
    for part in text.split(","):
        words = part.split()
        if words and words[0] != "*":
            names.append(words[0].rstrip("."))
    return [name for name in names if name]


_PathIndex = dict[str, list[tuple[str, str]]]  # a name -> [(path stem, uri)], sorted by uri


@dataclass(slots=True)
class _Tracked:
    """An open document and its cached snippet texts for its current version."""

    doc: Document
    version: int = -1
    texts: dict[tuple[str, int, str], tuple[str, int, tuple[tuple[int, int], ...]]] | None = None


@dataclass(frozen=True, slots=True)
class _Chosen:
    key: tuple[str, str, int]  # (kind, uri, region start)
    snippet: Snippet
    tokens: int


class ExtraContext:
    """Tracks open documents and recent edits; picks snippets for the current file."""

    def __init__(
        self,
        roots: Sequence[str] = (),
        *,
        max_snippets: int = 8,
        snippet_tokens: int = 384,
        region_lines: int = 32,
        max_regions: int = 16,
        max_documents: int = 256,
        max_selections: int = 64,
        modules: WorkspaceModules | None = None,
    ) -> None:
        self._roots = [uri_to_path(root).rstrip("/") + "/" for root in roots]
        self.modules = modules
        # path -> (outline spans, comment style, text, tokens, document lines): cut once per outline
        self._disk_texts: OrderedDict[str, tuple[Any, str, str, int, tuple[tuple[int, int], ...]]] = OrderedDict()
        self._max_snippets = max_snippets
        self._snippet_tokens = snippet_tokens
        self._region_lines = max(region_lines, 1)
        self._max_regions = max_regions
        self._max_documents = max_documents
        self._max_selections = max_selections
        self._docs: OrderedDict[str, _Tracked] = OrderedDict()
        self._index: tuple[_PathIndex, _PathIndex] | None = None
        self._regions: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._selections: OrderedDict[str, list[_Chosen]] = OrderedDict()

    # -- tracking --------------------------------------------------------------------------
    def opened(self, doc: Document) -> None:
        """Track an open document (call on didOpen; harmless to repeat)."""
        self._docs[doc.uri] = _Tracked(doc)  # a reopened document starts a fresh text cache
        self._index = None
        self._docs.move_to_end(doc.uri)
        while len(self._docs) > self._max_documents:
            self.closed(next(iter(self._docs)))

    def closed(self, uri: str) -> None:
        """Forget a closed document, its regions and its own selection."""
        if self._docs.pop(uri, None) is not None:
            self._index = None
        self._selections.pop(uri, None)
        for key in [key for key in self._regions if key[0] == uri]:
            del self._regions[key]

    def edited(self, doc: Document, line: int) -> None:
        """Record an edit at `line` of `doc` (call on didChange with each change's start line)."""
        tracked = self._docs.get(doc.uri)
        if tracked is None or tracked.doc is not doc:
            self.opened(doc)
        key = (doc.uri, line - line % self._region_lines)
        self._regions[key] = None
        self._regions.move_to_end(key)
        while len(self._regions) > self._max_regions:
            self._regions.popitem(last=False)

    # -- selection -------------------------------------------------------------------------
    def select(self, current_uri: str, current_text_head: str, budget_tokens: int) -> list[Snippet]:
        """Snippets for the prompt of `current_uri`, in a sticky order, within `budget_tokens`.

        `current_text_head` is the top of the current file, where its imports are (the first
        few hundred lines are plenty). Returns the snippets in prompt order.
        """
        style = comment_style("", uri_to_path(current_uri))
        previous = self._selections.pop(current_uri, [])
        chosen: list[_Chosen] = []
        used = 0
        for entry in previous:
            fresh = self._make(entry.key, style)
            if fresh is None or fresh.snippet != entry.snippet:
                continue  # changed, closed or now private: it may come back at the end
            if used + fresh.tokens > budget_tokens or len(chosen) >= self._max_snippets:
                break  # out of budget: it and everything after it go
            chosen.append(fresh)
            used += fresh.tokens
        taken = {entry.key for entry in chosen}
        for key in self._candidates(current_uri, current_text_head):
            if len(chosen) >= self._max_snippets:
                break
            if key in taken:
                continue
            fresh = self._make(key, style)
            if fresh is None or used + fresh.tokens > budget_tokens:
                continue
            chosen.append(fresh)
            taken.add(key)
            used += fresh.tokens
        self._selections[current_uri] = chosen
        while len(self._selections) > self._max_selections:
            self._selections.popitem(last=False)
        return [entry.snippet for entry in chosen]

    def _candidates(self, current_uri: str, head: str) -> list[tuple[str, str, int]]:
        """Keys of new candidates: imported files first (import order), then recent regions."""
        files: dict[tuple[str, str, int], None] = {}
        by_name, by_folder = self._path_index()
        current_path = uri_to_path(current_uri)
        for stem, exact in imported_paths(current_path, head):
            if stem.endswith("/"):  # Go: a package directory, matched by its last part
                hits = by_folder.get(stem.rstrip("/").rsplit("/", 1)[-1], [])
            else:
                hits = [
                    (path, uri)
                    for path, uri in by_name.get(stem.rsplit("/", 1)[-1], [])
                    if path == stem or (not exact and path.endswith("/" + stem))
                ]
            for _, uri in hits:
                if uri != current_uri:
                    files[("file", uri, 0)] = None
            if not hits and self.modules is not None:  # not open: the file on disk, if any
                for path in self.modules.find(stem, exact, current_path):
                    files[("disk", path, 0)] = None
        regions = [
            ("region", uri, start) for uri, start in reversed(self._regions) if uri != current_uri
        ]
        return [*files, *regions]

    def _path_index(self) -> tuple[_PathIndex, _PathIndex]:
        """Open documents' (stem, uri) by file name and by folder name, sorted; cached."""
        if self._index is None:
            by_name: _PathIndex = {}
            by_folder: _PathIndex = {}
            for uri in sorted(self._docs):
                stem = posixpath.splitext(uri_to_path(uri))[0]
                folder, name = posixpath.split(stem)
                by_name.setdefault(name, []).append((stem, uri))
                by_folder.setdefault(posixpath.basename(folder), []).append((stem, uri))
            self._index = (by_name, by_folder)
        return self._index

    def _make(self, key: tuple[str, str, int], style: tuple[str, str]) -> _Chosen | None:
        """The snippet for `key` from the document's current text, or None if not allowed."""
        kind, uri, start = key
        if kind == "disk":
            return self._disk(key, style)
        tracked = self._docs.get(uri)
        if tracked is None or tracked.doc.private:
            return None
        doc = tracked.doc
        if tracked.version != doc.version or tracked.texts is None:
            tracked.version, tracked.texts = doc.version, {}
        label = self.label(uri) + (f":{start + 1}" if kind == "region" else "")
        cached = tracked.texts.get((kind, start, style[0]))
        if cached is None:
            cached = self._text(doc, kind, start, label, style)
            tracked.texts[(kind, start, style[0])] = cached
        text, tokens, lines = cached
        if not text.strip():
            return None
        return _Chosen(key, Snippet(uri, label, text, lines), tokens)

    def _text(
        self, doc: Document, kind: str, start: int, label: str, style: tuple[str, str]
    ) -> tuple[str, int, tuple[tuple[int, int], ...]]:
        """Snippet text (outline, file top, or region) cut to the per-snippet token cap, its
        tokens and the document line ranges it holds; empty when it looks like a secret."""
        buffer = doc.buffer
        numbered: list[tuple[int, int, str]]  # (first document line, last, text)
        if kind == "region":
            numbered = [(i, i, line) for i, line in enumerate(buffer.lines(start, start + self._region_lines), start)]
        else:
            window = buffer.lines(0, min(buffer.line_count, 4000))
            language = language_of(doc.language_id, uri_to_path(doc.uri))
            if language is not None:
                numbered = [(first, last, text) for first, last, text in public_outline_spans(window, language)]
            else:
                numbered = [(i, i, line) for i, line in enumerate(window) if _DEFINITION.match(line)]
            if len(numbered) < 3:
                numbered = [(i, i, line) for i, line in enumerate(buffer.lines(0, self._region_lines * 2))]
        text, tokens, ranges = self._cut(numbered, doc.uri, label, style)
        if looks_secret(text, uri_to_path(doc.uri)):
            return "", 0, ()
        return text, tokens, ranges

    def _disk(self, key: tuple[str, str, int], style: tuple[str, str]) -> _Chosen | None:
        """The outline snippet of an imported module read from disk (see `modules`)."""
        path = key[1]
        spans = self.modules.outline_spans(path) if self.modules is not None else ()
        if not any(text.strip() for _, _, text in spans):
            return None
        label = self.label(path)
        cached = self._disk_texts.get(path)
        if cached is None or cached[:2] != (spans, style[0]):
            text, tokens, ranges = self._cut(list(spans), path, label, style)
            cached = (spans, style[0], text, tokens, ranges)
            self._disk_texts[path] = cached
            while len(self._disk_texts) > self._max_documents:
                self._disk_texts.popitem(last=False)
        self._disk_texts.move_to_end(path)
        text, tokens, ranges = cached[2], cached[3], cached[4]
        if not text.strip() or looks_secret(text):
            return None
        return _Chosen(key, Snippet(Path(path).as_uri(), label, text, ranges), tokens)

    def _cut(
        self, numbered: list[tuple[int, int, str]], uri: str, label: str, style: tuple[str, str]
    ) -> tuple[str, int, tuple[tuple[int, int], ...]]:
        """Whole lines from the start while the rendered snippet fits the per-snippet cap: the
        text, its tokens (rendered), and the (first, last) document lines it holds."""
        kept: list[str] = []
        ranges: list[tuple[int, int]] = []
        tokens = count(render_snippet(Snippet(uri, label, ""), style))
        for first, last, line in numbered:
            if not line.endswith(("\n", "\r")):
                line += "\n"
            size = count(line)
            if tokens + size > self._snippet_tokens:
                break
            kept.append(line)
            tokens += size
            if ranges and ranges[-1][1] >= first - 1:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
            else:
                ranges.append((first, last))
        text = "".join(kept)
        return text, count(render_snippet(Snippet(uri, label, text), style)), tuple(ranges)

    def label(self, uri: str) -> str:
        """The document's path relative to a workspace root, else its last two path parts."""
        return relative_label(uri, self._roots)
