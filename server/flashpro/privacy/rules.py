"""The rule set that decides which part of a line is a secret: detect-secrets plus what it lacks.

One function, :func:`scan_line`, maps (line, flavor) to :class:`Finding` spans, each the exact
characters of a secret *value* (never the name it is assigned to), so a caller can replace
the value and keep the rest of the line. Rules, in order:

1. **detect-secrets' shape detectors** (detect-secrets 1.5.0, used in-process through each
   plugin's own regexes and post-checks; no settings singleton, no network verification):
   AWS, Artifactory, Azure storage, basic-auth URLs, Cloudant, Discord, GitHub, GitLab, IBM,
   JWT (formally valid ones), Mailchimp, npm, OpenAI, PyPI, SendGrid, Slack, Softlayer,
   Square, Stripe, Telegram, Twilio. The public-IP detector is left out (an address is not a
   credential).
2. **Shapes detect-secrets lacks or cuts short**: GitHub fine-grained ``github_pat_``,
   OpenAI ``sk-proj-``, Anthropic ``sk-ant-``, ``sk-`` API keys (DeepSeek's), Google
   ``AIza``, Slack ``xox?-`` without digit groups, Stripe keys of any length, bearer tokens.
3. **detect-secrets' keyword detector** (``password``, ``secret``, ``api_key``, ``pwd`` ...
   assigned a value), with the assignment forms of the file's flavor: *code* flavors need a
   quoted literal (``password = input()`` is code, not a secret); the *config* flavor (YAML,
   INI, .env, shell, unknown files) also takes bare values (``POSTGRES_PASSWORD: x``). Hits
   pass detect-secrets' default heuristic filters (templated ``{x}``/``<x>``/``${x}``, ``$VAR``,
   indirect references such as ``get_secret()`` or ``env["X"]``, sequential, UUIDs, no letter).
4. **Token keywords** detect-secrets does not list (``token``, ``auth``, ``credentials``,
   ``bearer``, ``access_key``, ...), where the value is random-looking: at least 10
   characters, a letter and a digit, and a base64 Shannon entropy above 3.0.
5. **A line that is one long random token** (>= 40 base64 characters, entropy above 4.5,
   detect-secrets' limit): PEM bodies, pasted keys. Hex hashes never reach that entropy.
6. **Private-key blocks** (``-----BEGIN ... PRIVATE KEY-----``, PuTTY key files): a *block*
   finding, because the key's body lines cannot be told apart one by one; callers skip the
   call (and documents holding one stay private as a whole).

A found span grows forward over token characters, so a match cut short (a JWT's signature,
a long Stripe key) is covered whole. Long lines are scanned in overlapping chunks.
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CODE",
    "CONFIG",
    "FLAVORS",
    "Finding",
    "flavor_for",
    "has_private_key",
    "load_rules",
    "scan_line",
]

CONFIG = "config"
"""Bare values count after a secret-like key (YAML, INI, .env, shell, unknown files)."""
CODE = "code"
"""Only quoted literals count after a secret-like key (most programming languages)."""
FLAVORS = (CODE, CONFIG, "go", "c", "cpp")

_CHUNK = 4096
_OVERLAP = 1024
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=.")
_EDGE = " \t\"'`=:,;()[]{}<>"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d"
)
_SHAPES = tuple(
    (hint, re.compile(pattern))
    for hint, pattern in (
        ("github_pat_", r"github_pat_[A-Za-z0-9_]{22,}"),
        ("sk-", r"sk-(?:proj|svcacct|admin|ant)-[A-Za-z0-9_\-]{20,}"),
        ("sk-", r"\bsk-[A-Za-z0-9]{32,}"),
        ("AIza", r"AIza[0-9A-Za-z_\-]{35}"),
        ("xox", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
        ("k_", r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}"),
    )
)
_BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,}=*)")
_BARE = re.compile(r"^[\s\"'`,]*([A-Za-z0-9+/_\-]{40,}={0,2})[\s\"'`,;]*$")
_TOKEN_KEY = re.compile(
    r"(?i)[\w.-]*(?:token|credentials?|bearer|auth|(?:access|signing|encryption|master|session)[_-]?key)"
    r"[\w.-]*[\"'\]]{0,2}\s*(?::=|=>|==?|:)\s*(?:(?P<quote>[\"'`])(?P<quoted>[^\"'`\s]+)(?P=quote)"
    r"|(?P<bare>[^\s\"'`,;#]+))"
)
_CODE_EXTENSIONS = frozenset(
    ".ts .tsx .mts .cts .jsx .mjs .cjs .rs .rb .kt .kts .scala .dart .lua .h .hh .hpp .cc .cxx "
    ".vue .svelte .ex .exs .jl .zig .sol .r .pl .pm .hs .elm .clj .cljs .fs .fsx .groovy .php "
    ".vb .ml .mli .nim .cr .d .v .sv .erl .hrl .coffee .ps1".split()
)


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """A secret on a line: characters [start, end), the rule that found it, and whether it is a
    private-key block (which no per-line redaction can make safe)."""

    start: int
    end: int
    rule: str
    block: bool = False


@functools.lru_cache(maxsize=256)
def flavor_for(path: str) -> str:
    """The assignment forms that count for a file, from its name (see the module docstring)."""
    file_type, groups = _keyword_tables()
    flavor = groups.get(file_type(path))
    if flavor is not None:
        return flavor
    return CODE if posixpath.splitext(path.lower())[1] in _CODE_EXTENSIONS else CONFIG


def has_private_key(text: str) -> bool:
    """Whether `text` holds a private-key block header (cheap: one regex over the text)."""
    return _PRIVATE_KEY.search(text) is not None


def load_rules() -> None:
    """Import detect-secrets and build the rules now (the first scan would otherwise pay it)."""
    _detectors()
    _keyword_regexes()
    _keyword_tables()
    _heuristics()


def scan_line(line: str, flavor: str = CONFIG) -> tuple[Finding, ...]:
    """Every secret on one line (no line break inside), sorted by position.

    A line with an unclosed quote is also scanned as if it were closed: a value typed one
    key at a time is complete before its closing quote is.
    """
    found = set(_chunked(line, flavor))
    for quote in "\"'`":
        if line.count(quote) % 2:
            found.update(_clipped(_chunked(line + quote, flavor), len(line)))
    return tuple(sorted(found))


def _chunked(line: str, flavor: str) -> Iterator[Finding]:
    """`_scan` over a line, in overlapping chunks when it is long (minified code)."""
    if len(line) <= _CHUNK:
        yield from _scan(line, flavor)
        return
    for offset in range(0, len(line), _CHUNK - _OVERLAP):
        for hit in _scan(line[offset : offset + _CHUNK], flavor):
            yield _grow(line, Finding(hit.start + offset, hit.end + offset, hit.rule, hit.block))
        if offset + _CHUNK >= len(line):
            break


def _clipped(found: Iterator[Finding], length: int) -> Iterator[Finding]:
    for finding in found:
        if finding.start < length:
            yield Finding(finding.start, min(finding.end, length), finding.rule, finding.block)


# -- the rules ---------------------------------------------------------------------------------


def _scan(line: str, flavor: str) -> Iterator[Finding]:
    if not line.strip():
        return
    if _PRIVATE_KEY.search(line):
        yield Finding(0, len(line), "private-key", block=True)
    for name, detector in _detectors():
        yield from _detector_hits(line, name, detector)
    for hint, pattern in _SHAPES:
        if hint in line:
            for match in pattern.finditer(line):
                yield _grow(line, Finding(match.start(), match.end(), "token-shape"))
    if "earer" in line:
        for match in _BEARER.finditer(line):
            yield _grow(line, Finding(match.start(1), match.end(1), "bearer"))
    yield from _keyword_hits(line, flavor)
    yield from _token_key_hits(line, flavor)
    bare = _BARE.match(line)
    if bare and _entropy(bare.group(1)) > 4.5:
        yield Finding(bare.start(1), bare.end(1), "high-entropy-line")


def _detector_hits(line: str, name: str, detector: Any) -> Iterator[Finding]:
    """Spans of `detector`'s matches that the plugin itself accepts (its own post-checks)."""
    if not any(pattern.search(line) for pattern in detector.denylist):
        return  # the common case, without the plugin's generator machinery
    accepted = set(detector.analyze_string(line))
    if not accepted:
        return
    for pattern in detector.denylist:
        for match in pattern.finditer(line):
            groups = [i for i in range(1, (match.lastindex or 0) + 1) if match.group(i)]
            spans = [match.span(i) for i in groups if match.group(i) in accepted]
            if not groups and match.group(0) in accepted:
                spans = [match.span(0)]
            for start, end in spans:
                yield _grow(line, Finding(start, end, name))


def _keyword_hits(line: str, flavor: str) -> Iterator[Finding]:
    """detect-secrets' keyword detector with the flavor's assignment forms, and its filters."""
    tables = _keyword_regexes()
    lowered = line.lower()
    if not any(word in lowered for word in tables.hints):
        return  # every keyword of detect-secrets' list holds one of these words
    for pattern, group in tables.by_flavor.get(flavor, tables.by_flavor[CODE]).items():
        for match in pattern.finditer(line):
            value = match.group(group)
            if value and not _filtered(value, line[match.start() :]):
                yield _trimmed(line, match.start(group), match.end(group), "keyword")


def _token_key_hits(line: str, flavor: str) -> Iterator[Finding]:
    """`token: <random-looking value>` and its kin (names detect-secrets does not list)."""
    if not _token_hint(line):
        return
    for match in _TOKEN_KEY.finditer(line):
        group = "quoted" if match.group("quoted") else "bare"
        value = match.group(group)
        if group == "bare" and flavor != CONFIG:
            continue
        if (
            len(value) >= 10
            and any(c.isdigit() for c in value)
            and any(c.isalpha() for c in value)
            and _entropy(value) > 3.0
            and not _filtered(value, line[match.start() :])
        ):
            yield _grow(line, Finding(match.start(group), match.end(group), "token-keyword"))


def _token_hint(line: str) -> bool:
    lowered = line.lower()
    return any(word in lowered for word in ("token", "cred", "bearer", "auth", "key"))


def _filtered(value: str, line: str) -> bool:
    """detect-secrets' default heuristic filters for a keyword hit (`line` starts at the key, so
    `connect(password="x")` is not taken for an indirect reference)."""
    heuristic = _heuristics()
    return any(check(value, line) for check in heuristic)


def _trimmed(line: str, start: int, end: int, rule: str) -> Finding:
    while start < end and line[start] in _EDGE:
        start += 1
    while end > start and line[end - 1] in " \t\"'`":
        end -= 1
    return Finding(start, end, rule)


def _grow(line: str, finding: Finding) -> Finding:
    """Trim delimiters a pattern matched around the value, then extend over token characters."""
    trimmed = _trimmed(line, finding.start, finding.end, finding.rule)
    start, end = trimmed.start, trimmed.end
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_") and line[start - 1].isascii():
        start -= 1
    while end < len(line) and line[end] in _TOKEN_CHARS:
        end += 1
    return Finding(start, end, finding.rule, finding.block)


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character (detect-secrets' base64 measure)."""
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values()) if size else 0.0


# -- detect-secrets, loaded on first use -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _KeywordTables:
    hints: tuple[str, ...]  # a word every keyword contains (lower case)
    by_flavor: dict[str, dict[re.Pattern[str], int]]


@functools.lru_cache(maxsize=1)
def _detectors() -> tuple[tuple[str, Any], ...]:
    """detect-secrets' shape detectors (imported lazily: the package takes ~0.2 s to load)."""
    from detect_secrets.plugins import (
        artifactory,
        aws,
        azure_storage_key,
        basic_auth,
        cloudant,
        discord,
        github_token,
        gitlab_token,
        ibm_cloud_iam,
        ibm_cos_hmac,
        jwt,
        mailchimp,
        npm,
        openai,
        pypi_token,
        sendgrid,
        slack,
        softlayer,
        square_oauth,
        stripe,
        telegram_token,
        twilio,
    )

    classes = (
        aws.AWSKeyDetector, artifactory.ArtifactoryDetector,
        azure_storage_key.AzureStorageKeyDetector, basic_auth.BasicAuthDetector,
        cloudant.CloudantDetector, discord.DiscordBotTokenDetector,
        github_token.GitHubTokenDetector, gitlab_token.GitLabTokenDetector,
        ibm_cloud_iam.IbmCloudIamDetector, ibm_cos_hmac.IbmCosHmacDetector,
        jwt.JwtTokenDetector, mailchimp.MailchimpDetector, npm.NpmDetector,
        openai.OpenAIDetector, pypi_token.PypiTokenDetector, sendgrid.SendGridDetector,
        slack.SlackDetector, softlayer.SoftlayerDetector, square_oauth.SquareOAuthDetector,
        stripe.StripeDetector, telegram_token.TelegramBotTokenDetector, twilio.TwilioKeyDetector,
    )  # fmt: skip
    return tuple((cls.__name__.removesuffix("Detector").lower(), cls()) for cls in classes)


@functools.lru_cache(maxsize=1)
def _keyword_regexes() -> _KeywordTables:
    from detect_secrets.plugins import keyword

    # Each entry is a literal with optional underscores (`api_?key`): its last part is a word
    # any match contains. An entry of another form makes every line a candidate.
    parts = [entry.split("_?")[-1] for entry in keyword.DENYLIST]
    hints = tuple(parts) if all(part.isalpha() for part in parts) else ("",)
    return _KeywordTables(
        hints=hints,
        by_flavor={
            CODE: keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
            CONFIG: keyword.CONFIG_DENYLIST_REGEX_TO_GROUP,
            "go": keyword.GOLANG_DENYLIST_REGEX_TO_GROUP,
            "c": keyword.COMMON_C_DENYLIST_REGEX_TO_GROUP,
            "cpp": keyword.C_PLUS_PLUS_REGEX_TO_GROUP,
        },
    )


@functools.lru_cache(maxsize=1)
def _keyword_tables() -> tuple[Callable[[str], Any], dict[Any, str]]:
    """detect-secrets' file typing, and the flavor of each type it gives keyword rules to."""
    from detect_secrets.plugins import keyword
    from detect_secrets.util.filetype import determine_file_type

    names = {
        id(keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP): CODE,
        id(keyword.CONFIG_DENYLIST_REGEX_TO_GROUP): CONFIG,
        id(keyword.GOLANG_DENYLIST_REGEX_TO_GROUP): "go",
        id(keyword.COMMON_C_DENYLIST_REGEX_TO_GROUP): "c",
        id(keyword.C_PLUS_PLUS_REGEX_TO_GROUP): "cpp",
    }
    return determine_file_type, {kind: names[id(table)] for kind, table in keyword.REGEX_BY_FILETYPE.items()}


@functools.lru_cache(maxsize=1)
def _heuristics() -> Sequence[Callable[[str, str], bool]]:
    from detect_secrets.filters import heuristic

    return (
        lambda value, line: heuristic.is_templated_secret(value),
        lambda value, line: heuristic.is_prefixed_with_dollar_sign(value),
        lambda value, line: heuristic.is_indirect_reference(line),
        lambda value, line: heuristic.is_not_alphanumeric_string(value),
        lambda value, line: heuristic.is_sequential_string(value),
        lambda value, line: heuristic.is_potential_uuid(value),
    )
