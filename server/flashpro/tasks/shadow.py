"""The shadow copy: a private copy of the workspace where a task writes and its checks run.

Nothing a task does touches the user's files until the one reviewed edit at the end. At start
the workspace is copied into a temporary folder (vendored, generated and VCS folders left out,
within a size limit past which only the plan's files, tests and project configuration are
copied) and the editor's unsaved buffers are laid over it. The text each plan file had at that
moment is the task's *base*: the final change is computed against it, and checks count only
problems that are new relative to it. Each line written keeps the id of the node that wrote it,
so the final edit can say which node made which change.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

__all__ = ["SKIPPED_FOLDERS", "Shadow", "walk"]

SKIPPED_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", ".flashpro", "node_modules", ".venv", "venv", "__pycache__",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", "dist", "build", ".idea",
    }
)  # fmt: skip
_CONFIG_FILES = frozenset(
    {"pyproject.toml", "setup.cfg", "setup.py", "conftest.py", "pytest.ini", "tox.ini", "ruff.toml", ".ruff.toml"}
)


def walk(root: Path) -> Iterator[Path]:
    """Files under `root`, skipping vendored, generated and VCS folders, in a stable order."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            yield Path(folder) / name


class Shadow:
    """A task's private copy of the workspace."""

    def __init__(
        self,
        root: Path,
        plan_files: Iterable[str],
        buffers: Mapping[str, str],
        *,
        limit_bytes: int = 200_000_000,
        limit_files: int = 20_000,
    ) -> None:
        """Copy `root`, lay `buffers` (relative path -> unsaved text) over it, and record the base
        text of every file in `plan_files`."""
        self.root = root
        self.dir = Path(tempfile.mkdtemp(prefix="flashpro-task-"))
        self.base: dict[str, str | None] = {}
        self._origins: dict[str, list[str | None]] = {}
        self.partial = self._copy(set(plan_files), limit_bytes, limit_files)
        for path, text in buffers.items():
            self._put(path, text)
        for path in plan_files:
            self.base.setdefault(path, self.read(path))

    def _copy(self, keep: set[str], limit_bytes: int, limit_files: int) -> bool:
        """Copy the workspace; True when the limits left part of it out."""
        used = files = 0
        partial = False
        for source in walk(self.root):
            relative = source.relative_to(self.root).as_posix()
            try:
                size = source.lstat().st_size
            except OSError:
                continue
            over = used + size > limit_bytes or files >= limit_files
            essential = relative in keep or source.name in _CONFIG_FILES or "test" in relative
            if over and not essential:
                partial = True
                continue
            target = self.dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(source, target, follow_symlinks=False)
            except OSError:
                continue
            used, files = used + size, files + 1
        return partial

    def _put(self, path: str, text: str) -> None:
        target = self.dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")

    # -- reading and writing -----------------------------------------------------------------
    def read(self, path: str) -> str | None:
        """The shadow's text of `path`, or None when it does not exist (or is not text)."""
        try:
            with open(self.dir / path, encoding="utf-8", newline="") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError):
            return None

    def write(self, path: str, text: str, node_id: str) -> None:
        """Write `path`; the lines that changed are now owned by `node_id`."""
        old = self.read(path)
        self.base.setdefault(path, old)
        old_lines = (old or "").splitlines(keepends=True)
        new_lines = text.splitlines(keepends=True)
        owners = self._origins.get(path) or [None] * len(old_lines)
        updated: list[str | None] = []
        matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            updated += owners[i1:i2] if tag == "equal" else [node_id] * (j2 - j1)
        self._origins[path] = updated
        self._put(path, text)

    def snapshot(self, paths: Iterable[str]) -> dict[str, tuple[str | None, list[str | None] | None]]:
        """The current text and line owners of `paths`, to `rollback` a failed attempt."""
        return {path: (self.read(path), list(self._origins.get(path, [])) or None) for path in paths}

    def rollback(self, snapshot: Mapping[str, tuple[str | None, list[str | None] | None]]) -> None:
        """Put back what `snapshot` saw (a file that did not exist is removed)."""
        for path, (text, owners) in snapshot.items():
            if text is None:
                (self.dir / path).unlink(missing_ok=True)
            else:
                self._put(path, text)
            if owners is None:
                self._origins.pop(path, None)
            else:
                self._origins[path] = owners

    def owners(self, path: str, first: int, last: int) -> set[str]:
        """Nodes that wrote the current lines [first, last) of `path`."""
        return {o for o in self._origins.get(path, [])[first:last] if o is not None}

    def changes(self) -> dict[str, tuple[str | None, str | None]]:
        """Every file whose text differs from its base: path -> (base, now)."""
        found = {}
        for path, base in self.base.items():
            now = self.read(path)
            if now != base:
                found[path] = (base, now)
        return found

    def cleanup(self) -> None:
        """Remove the shadow folder."""
        shutil.rmtree(self.dir, ignore_errors=True)
