"""Which files never leave the machine, by path: `flashpro.exclude`, `.gitignore`, vendored folders.

* :func:`exclude_spec` compiles the user's exclusion globs with pathspec, keeping their
  documented meaning: ``**/`` matches any number of folders, ``*`` and ``?`` stay inside one
  path segment, a pattern without a slash matches the file name anywhere, and a pattern with
  one matches at any folder boundary of the file's absolute path (``src/*.py`` excludes every
  ``.../src/x.py``). A leading ``!`` or ``#`` is taken literally.
* :class:`WorkspaceIgnore` answers whether a file of the workspace is ignored by git: the
  ``.gitignore`` files from the repository's top folder (the nearest one above the workspace
  holding ``.git``, else the workspace itself) down to the file's folder, each read relative to
  its own folder with git's rules (a deeper file's pattern wins; a file inside an ignored
  folder stays ignored), plus ``.git/info/exclude``. Files are re-read when their
  modification time changes. Every path, in the workspace or not, is also checked against
  the vendored and generated folders :data:`VENDORED` at any depth.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

import pathspec

__all__ = ["VENDORED", "WorkspaceIgnore", "exclude_spec", "uri_to_path"]

VENDORED: tuple[str, ...] = ("node_modules/", ".venv/", "venv/", "dist/", "build/")
"""Folders of third-party or generated files, never sent wherever they are."""

_VENDORED_SPEC = pathspec.GitIgnoreSpec.from_lines(VENDORED)


def uri_to_path(uri: str) -> str:
    """The path part of a URI (file or untitled), with forward slashes."""
    parsed = urlparse(uri)
    path = unquote(parsed.path or uri)
    return path.replace("\\", "/")


@functools.lru_cache(maxsize=32)
def exclude_spec(patterns: tuple[str, ...]) -> pathspec.PathSpec[pathspec.Pattern]:
    """The exclusion globs as one pathspec, matched against a path without its leading slash."""
    lines = []
    for pattern in patterns:
        pattern = pattern.strip()
        if not pattern:
            continue
        if pattern.startswith(("!", "#")):
            pattern = "\\" + pattern
        if pattern.startswith("/"):
            pattern = pattern.lstrip("/")
            lines.append("/" + pattern)
            continue
        if "/" in pattern.rstrip("/") and not pattern.startswith("**/"):
            pattern = "**/" + pattern
        lines.append(pattern)
    return pathspec.PathSpec.from_lines("gitignore", lines)


class WorkspaceIgnore:
    """git's ignore rules for one workspace, plus the vendored folders anywhere."""

    def __init__(self, root: str | None) -> None:
        self._root = Path(os.path.abspath(root)) if root else None
        self._top = _repository_top(self._root) if self._root is not None else None
        self._specs: dict[Path, tuple[int, pathspec.GitIgnoreSpec | None]] = {}

    @property
    def root(self) -> Path | None:
        """The workspace folder (absolute), if any."""
        return self._root

    def ignored(self, path: str) -> bool:
        """Whether the file at `path` (absolute) is vendored or ignored by git."""
        if not path:
            return False
        if _VENDORED_SPEC.match_file(self.relative(path) or path.lstrip("/")):
            return True
        if self._top is None:
            return False
        try:
            relative = Path(os.path.abspath(path)).relative_to(self._top)
        except ValueError:
            return False
        return self._git_ignored(relative.parts)

    def relative(self, path: str) -> str | None:
        """`path` relative to the workspace folder, or None when it lies outside."""
        if self._root is None or not path:
            return None
        try:
            return Path(os.path.abspath(path)).relative_to(self._root).as_posix()
        except ValueError:
            return None

    def _git_ignored(self, parts: tuple[str, ...]) -> bool:
        """git's verdict for the file at `parts` below the repository top."""
        assert self._top is not None
        decision = False
        info = self._spec(self._top / ".git" / "info" / "exclude")
        if info is not None and info.match_file("/".join(parts)):
            decision = True
        folder = self._top
        for depth in range(len(parts)):
            spec = self._spec(folder / ".gitignore")
            if spec is not None:
                below = parts[depth:]
                for ancestor in range(1, len(below)):  # a folder on the way is ignored
                    if spec.check_file("/".join(below[:ancestor]) + "/").include:
                        return True
                verdict = spec.check_file("/".join(below)).include
                if verdict is not None:
                    decision = verdict
            folder = folder / parts[depth]
        return decision

    def _spec(self, file: Path) -> pathspec.GitIgnoreSpec | None:
        """The parsed ignore file at `file` (None when absent), re-read when it changes."""
        try:
            stamp = file.stat().st_mtime_ns
        except OSError:
            self._specs.pop(file, None)
            return None
        cached = self._specs.get(file)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            lines: Iterable[str] = file.read_text(encoding="utf-8", errors="replace").splitlines()
            spec: pathspec.GitIgnoreSpec | None = pathspec.GitIgnoreSpec.from_lines(lines)
        except (OSError, ValueError):
            spec = None
        self._specs[file] = (stamp, spec)
        return spec


def _repository_top(root: Path) -> Path:
    """The nearest folder at or above `root` that holds `.git`, else `root` itself."""
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            return folder
    return root
