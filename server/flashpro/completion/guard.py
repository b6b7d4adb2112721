"""The last check before a FIM call: no secret leaves in the prompt, suffix, snippets or stops.

:func:`guard_layout` scans the assembled text exactly as it will be sent (prompt, then
suffix: the cursor line is scanned whole across the hole), each snippet with the rules of its
own file type, through the memoised :class:`~flashpro.privacy.SecretScanner`, so a keystroke
costs a scan of the lines it changed. Secret values are replaced by a placeholder (same line,
same bytes every time: the cached head stays byte-stable); a private-key block in the text
stops the call. It also records which files and lines the prompt holds (`Layout.sent`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace

from flashpro.completion.context import FimContext
from flashpro.completion.layout import Layout, Snippet, comment_style, render_snippet, shared_counter
from flashpro.privacy import CONFIG, SecretScanner, SentLines, flavor_for, uri_to_path

__all__ = ["guard_layout", "guard_stops", "sent_lines"]

logger = logging.getLogger(__name__)


def guard_stops(stops: list[str], uri: str, scanner: SecretScanner) -> list[str]:
    """The stop sequences that may be sent (one is the line after the cursor: a line holding
    a secret is dropped, the rest of the request does not depend on it)."""
    flavor = flavor_for(uri_to_path(uri))
    return [stop for stop in stops if not scanner.has_secret(stop, flavor)]


def sent_lines(layout: Layout, uri: str, cursor_line: int, snippets: Sequence[Snippet], root: str | None) -> SentLines:
    """The files and lines `layout` sends: kept snippets, the file's runs, the suffix."""
    sent = SentLines(root)
    for snippet in snippets[: layout.snippets]:
        for first, last in snippet.lines:
            sent.add(snippet.uri, first, last)
    prompt = layout.context.prompt
    runs = [run for run in layout.file_runs if run[0] < run[1]]
    for index, (start, end, first) in enumerate(runs):
        breaks = prompt.count("\n", start, end)
        if index == len(runs) - 1 and end == len(prompt):  # the run that ends at the cursor
            sent.add(uri, cursor_line - breaks, cursor_line)
        else:
            sent.add(uri, first, first + breaks - (1 if prompt.endswith("\n", start, end) else 0))
    suffix = layout.context.suffix
    if suffix:
        sent.add(uri, cursor_line, cursor_line + suffix.count("\n") - (1 if suffix.endswith("\n") else 0))
    return sent


def guard_layout(
    layout: Layout,
    *,
    uri: str,
    cursor_line: int,
    snippets: Sequence[Snippet],
    language_id: str,
    label: str | None,
    scanner: SecretScanner,
    root: str | None,
) -> Layout | None:
    """`layout` with its secrets redacted and `sent` filled in; None when it must not be sent.

    `snippets`, `language_id` and `label` are what `build_layout` was given (the kept
    snippets are the first `layout.snippets` of them).
    """
    context = layout.context
    prompt, suffix = context.prompt, context.suffix
    style = comment_style(language_id, label or "")
    segments: list[tuple[int, str]] = []
    offset = 0
    for snippet in snippets[: layout.snippets]:
        rendered = render_snippet(snippet, style)
        if not prompt.startswith(rendered, offset):
            segments.append((offset, CONFIG))  # not the expected text: scan the rest strictly
            break
        segments.append((offset, flavor_for(uri_to_path(snippet.uri))))
        offset += len(rendered)
    else:
        segments.append((offset, flavor_for(uri_to_path(uri))))
    sent = tuple(sent_lines(layout, uri, cursor_line, snippets, root).ranges())
    # The head repeats between keystrokes: its verdict is remembered whole; the rest (volatile
    # lines, the cursor line across the hole, the suffix) costs a look-up per line.
    cut = layout.head_chars
    head = scanner.redact(prompt[:cut], CONFIG, segments=segments, remember=True)
    result = head.then(scanner.redact(prompt[cut:] + suffix, segments[-1][1]), cut)
    if result.blocked:
        logger.info("no completion for %s: a private key is inside the prompt window", label or uri)
        return None
    if not result.edits:
        return replace(layout, sent=sent)
    logger.debug(
        "redacted %d secret value(s) (%s) from the prompt for %s",
        result.secrets,
        ", ".join(result.rules),
        label or uri,
    )
    split = result.shift(len(prompt))
    new_prompt, new_suffix = result.text[:split], result.text[split:]
    head_chars = result.shift(cut)
    counter = shared_counter()  # exact for any split; unchanged lines are cached
    fim = FimContext(
        prompt=new_prompt,
        suffix=new_suffix,
        prompt_tokens=counter.count_lines(new_prompt.splitlines(keepends=True)),
        suffix_tokens=counter.count_lines(new_suffix.splitlines(keepends=True)),
        line_rest=context.line_rest,
    )
    return replace(
        layout,
        context=fim,
        head_chars=head_chars,
        head_hash=hashlib.blake2b(
            new_prompt[:head_chars].encode("utf-8", "surrogatepass"), digest_size=8
        ).hexdigest(),
        file_runs=tuple((result.shift(s), result.shift(e), line) for s, e, line in layout.file_runs),
        sent=sent,
    )
