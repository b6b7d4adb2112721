"""What `flashpro demo` shows: a rich live view in a terminal, plain lines anywhere else.

Both views take the same calls from the driver: `phase` (typing, review, design), `typing`
(the text so far and the ghost text of the suggestion on screen), `event` (an accept, a
suggestion that was not what comes next, a finding, a message), `spend` (the server's
`flashpro/status`: tokens, cache-hit %, $, accepted) and `document` (the design's Markdown).

`LiveView` redraws one screen: a title that says whether the answers are simulated, the last
lines of the file being typed with the suggestion in dim italics after the cursor, the latest
events and the spend line. `PlainView` prints one line per event and the spend line at the
end of each phase, for pipes, logs, CI and tests.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

__all__ = ["LiveView", "PlainView", "View", "spend_line"]

_EVENT_STYLES = {
    "accept": "green",
    "miss": "yellow",
    "finding": "magenta",
    "error": "bold red",
    "info": "cyan",
}


def spend_line(status: dict[str, Any]) -> str:
    """`tokens 12,345 · cache hit 81% · $0.00123 · accepted 7 of 9 shown · 23 calls`."""
    ratio = status.get("cacheHitRatio")
    hit = "-" if ratio is None else f"{float(ratio) * 100:.0f}%"
    cost = float(status.get("sessionCostUsd") or 0.0)
    return (
        f"tokens {int(status.get('sessionTokens') or 0):,} · cache hit {hit} · ${cost:.5f} · "
        f"accepted {int(status.get('accepted') or 0)} of {int(status.get('shown') or 0)} shown · "
        f"{int(status.get('calls') or 0)} calls"
    )


class View:
    """The plain view; `LiveView` overrides what it draws differently."""

    def __init__(self, console: Console, title: str, simulated: bool) -> None:
        self.console = console
        self.title = title
        self.simulated = simulated
        self.status: dict[str, Any] = {}
        self.phase_name = ""

    def start(self) -> None:
        """Say what is about to happen."""
        self.console.print(self.title, markup=False, soft_wrap=True)

    def stop(self) -> None:
        """The run is over (the report follows)."""

    def phase(self, name: str) -> None:
        """A new phase begins (typing, review, design)."""
        if self.phase_name:
            self._spend()
        self.phase_name = name
        self.console.print(f"== {name}", markup=False, soft_wrap=True)

    def typing(self, text: str, ghost: str | None) -> None:
        """The document so far (the cursor at its end) and the suggestion on screen."""

    def event(self, kind: str, text: str) -> None:
        """Something happened worth a line."""
        self.console.print(f"{kind}: {text}", markup=False, highlight=False, soft_wrap=True)

    def spend(self, status: dict[str, Any]) -> None:
        """The server's latest `flashpro/status`."""
        self.status = status

    def document(self, title: str, markdown: str) -> None:
        """A document the server produced (the design)."""
        self.console.print(f"-- {title}", markup=False, soft_wrap=True)
        self.console.print(markdown.rstrip(), markup=False, highlight=False, soft_wrap=True)

    def done(self) -> None:
        """The last phase ended."""
        self._spend()

    def _spend(self) -> None:
        if self.status:
            self.console.print(f"spend: {spend_line(self.status)}", markup=False, highlight=False, soft_wrap=True)


class PlainView(View):
    """One line per event; for pipes, CI and tests."""


class LiveView(View):
    """A live screen in a terminal (rich `Live`)."""

    def __init__(self, console: Console, title: str, simulated: bool, language: str) -> None:
        super().__init__(console, title, simulated)
        self.language = language
        self._events: deque[Text] = deque(maxlen=6)
        self._text = ""
        self._ghost: str | None = None
        self._live = Live(console=console, auto_refresh=True, refresh_per_second=20, transient=False)

    def start(self) -> None:
        self._live.start()
        self._draw()

    def stop(self) -> None:
        self._draw()
        self._live.stop()

    def phase(self, name: str) -> None:
        self.phase_name = name
        self._draw()

    def typing(self, text: str, ghost: str | None) -> None:
        self._text, self._ghost = text, ghost
        self._draw()

    def event(self, kind: str, text: str) -> None:
        line = Text(f"{kind}: ", style=_EVENT_STYLES.get(kind, "bold"))
        line.append(text.replace("\n", "⏎"))
        self._events.append(line)
        self._draw()

    def spend(self, status: dict[str, Any]) -> None:
        self.status = status
        self._draw()

    def document(self, title: str, markdown: str) -> None:
        self._live.stop()
        self.console.print(Panel(Markdown(markdown), title=title, border_style="blue"))
        self._live.start()

    def done(self) -> None:
        self._draw()

    def _code(self) -> Text:
        height = max(self.console.size.height - 14, 6)
        lines = self._text.split("\n")
        first = max(len(lines) - height, 0)
        shown = "\n".join(lines[first:])
        code = Syntax(shown, self.language, theme="ansi_dark").highlight(shown)
        if len(code.plain) > len(shown):  # highlight() ends the text with a line break
            code.right_crop(len(code.plain) - len(shown))
        if self._ghost:
            code.append(self._ghost, style="dim italic")
        code.append("▏", style="bold")
        return _with_gutter(code, first)

    def _draw(self) -> None:
        label = "SIMULATED · offline model, no API calls" if self.simulated else "DeepSeek API · real calls"
        header = Text.assemble((self.title, "bold"), "  ", (label, "reverse yellow" if self.simulated else "reverse green"))
        body = Panel(self._code(), title=self.phase_name or "flashpro demo", border_style="blue")
        spend = Text(spend_line(self.status) if self.status else "spend: waiting for the first call", style="bold")
        self._live.update(Group(header, body, *self._events, spend))


def _with_gutter(code: Text, first: int) -> Text:
    """Line numbers in front of each line of `code` (which starts at line `first`)."""
    out = Text()
    for index, line in enumerate(code.split("\n", allow_blank=True)):
        if index:
            out.append("\n")
        out.append(f"{first + index + 1:>4} ", style="dim")
        out.append_text(line)
    return out
