"""Imported modules read from disk: their public outlines, only from inside the workspace.

When the current file imports a module that is not open in the editor, its public signatures
(:func:`flashpro.completion.outline.public_outline`) still name what the continuation may
call. This module finds such a module under the workspace root and reads it, within limits:

* only regular files whose real path (symlinks resolved) lies inside a workspace root, with an
  extension of a mapped language (Python, JavaScript / TypeScript, Go), at most
  ``max_bytes`` long and valid UTF-8 without NUL characters;
* never a file that may not be sent (``flashpro.exclude``, ``.gitignore``, vendored folders:
  the `excluded` callable, the document store's rule) or one whose text looks like a secret
  (:func:`flashpro.documents.looks_secret`, on the whole file): those contribute nothing;
* resolution by import stem (see :func:`flashpro.completion.extra.imported_paths`): an exact
  stem is an absolute path; a Python dotted import is tried from the root and from
  ``root/src``; a Go import path is matched through ``go.mod``'s module path, else by its last
  folders; a bare JavaScript package name is never resolved (``node_modules`` is not project
  code).

Where an import leads is looked up once per (import, current file); outlines are cached per
path and re-read only when the file's size or modification time changes (one ``stat`` per
use). Nothing here touches the network.
"""

from __future__ import annotations

import os
import posixpath
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

from flashpro.completion.outline import language_of, public_outline_spans
from flashpro.documents import looks_secret, split_lines, uri_to_path

__all__ = ["WorkspaceModules"]

_SUFFIXES = {
    "python": (".py", ".pyi"),
    "js": (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts"),
    "go": (".go",),
}
_GO_FILES = 16  # files of one Go package read at most


class WorkspaceModules:
    """Finds imported modules under the workspace roots and gives their public outlines."""

    def __init__(
        self,
        roots: Sequence[str],
        excluded: Callable[[str], bool] = lambda uri: False,
        *,
        max_bytes: int = 512_000,
        max_files: int = 128,
    ) -> None:
        self._roots = [os.path.realpath(uri_to_path(root)) for root in roots if root]
        self._excluded = excluded
        self._max_bytes = max_bytes
        self._max_files = max_files
        self._outlines: OrderedDict[str, tuple[int, int, tuple[tuple[int, int, str], ...]]] = OrderedDict()
        self._go_module: dict[str, str | None] = {}
        self._found: OrderedDict[tuple[str, bool, str], list[str]] = OrderedDict()

    def find(self, stem: str, exact: bool, current_path: str) -> list[str]:
        """Paths of workspace files that the import `stem` of `current_path` may name (looked
        up once per import: a module created later is found once an import names it anew)."""
        key = (stem, exact, current_path)
        found = self._found.get(key)
        if found is None:
            found = self._find(stem, exact, current_path)
            self._found[key] = found
            while len(self._found) > 4 * self._max_files:
                self._found.popitem(last=False)
        self._found.move_to_end(key)
        return found

    def _find(self, stem: str, exact: bool, current_path: str) -> list[str]:
        language = language_of("", current_path)
        if language is None or not self._roots:
            return []
        suffixes = _SUFFIXES[language]
        if stem.endswith("/"):
            return self._go_package(stem.rstrip("/")) if language == "go" else []
        if exact:
            bases = [stem]
        elif language == "python":
            bases = [posixpath.join(root, prefix, stem) for root in self._roots for prefix in ("", "src")]
        else:
            return []  # a bare package name: not project code
        found: list[str] = []
        for base in bases:
            for suffix in suffixes:
                path = base + suffix
                if path != current_path and self._inside(path) and os.path.isfile(path):
                    found.append(path)
                    break
        return found

    def outline(self, path: str) -> str:
        """The public outline of a workspace file ("" when it may not or cannot be read)."""
        return "".join(text for _, _, text in self.outline_spans(path))

    def outline_spans(self, path: str) -> tuple[tuple[int, int, str], ...]:
        """(first line, last line, text) of each line of a workspace file's public outline
        (empty when it may not or cannot be read)."""
        language = language_of("", path)
        if language is None or not self._inside(path):
            return ()
        if self._excluded(Path(path).as_uri()):
            return ()
        try:
            stat = os.stat(path)
        except OSError:
            return ()
        cached = self._outlines.get(path)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            self._outlines.move_to_end(path)
            return cached[2]
        text = self._read(path, stat.st_size)
        spans = tuple(public_outline_spans(split_lines(text), language)) if text else ()
        self._outlines[path] = (stat.st_mtime_ns, stat.st_size, spans)
        while len(self._outlines) > self._max_files:
            self._outlines.popitem(last=False)
        return spans

    def _read(self, path: str, size: int) -> str:
        """The file's text, or "" when it is too large, not UTF-8, binary or secret-looking."""
        if size > self._max_bytes:
            return ""
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(self._max_bytes + 1)
        except (OSError, UnicodeDecodeError):
            return ""
        if len(text) > self._max_bytes or "\x00" in text or looks_secret(text):
            return ""
        return text

    def _inside(self, path: str) -> bool:
        """Whether the real path of `path` lies inside a workspace root."""
        real = os.path.realpath(path)
        return any(real == root or real.startswith(root.rstrip("/") + "/") for root in self._roots)

    def _go_package(self, import_path: str) -> list[str]:
        """The .go files (tests left out) of the package an import path names."""
        folders: list[str] = []
        for root in self._roots:
            module = self._module_path(root)
            if module and (import_path == module or import_path.startswith(module + "/")):
                folders.append(posixpath.join(root, import_path[len(module) :].lstrip("/")))
            else:
                parts = import_path.split("/")
                folders += [posixpath.join(root, *parts[-depth:]) for depth in (2, 1) if len(parts) >= depth]
        for folder in folders:
            if not self._inside(folder) or not os.path.isdir(folder):
                continue
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            files = [
                posixpath.join(folder, name)
                for name in names
                if name.endswith(".go") and not name.endswith("_test.go")
            ]
            return [path for path in files if os.path.isfile(path)][:_GO_FILES]
        return []

    def _module_path(self, root: str) -> str | None:
        """The module path declared by `root`/go.mod, if any (read once)."""
        if root not in self._go_module:
            module = None
            try:
                with open(posixpath.join(root, "go.mod"), encoding="utf-8") as handle:
                    for line in handle.read(65_536).splitlines():
                        if line.startswith("module "):
                            module = line.split(None, 1)[1].strip().strip('"')
                            break
            except (OSError, UnicodeDecodeError, IndexError):
                module = None
            self._go_module[root] = module
        return self._go_module[root]
