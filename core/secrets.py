"""Secret redaction: API keys, tokens, private keys, passwords and emails.

Each detector replaces what it finds with a ``<REDACTED_KIND>`` placeholder
and is counted per kind. ``codegen-train data`` calls :func:`redact_secrets` on
every text before anything is written, and rejects the file if it raises (fail
closed). The language server uses :func:`secret_spans` (the same detectors, as
character spans of the original text) to redact every prompt it sends to a
remote engine, so the two never disagree about what a secret is.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

_PRIVATE_KEY = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
    re.DOTALL,
)
_TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b")),
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("api_key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
)
# NAME = "value" / NAME: "value" / "name": "value", where NAME says it is secret.
_ASSIGNMENT = re.compile(
    r"""(?<![\w.-])(?P<name>[A-Za-z_][\w.-]*)(?P<q0>["']?)[ \t]*(?::=|=|:)[ \t]*"""
    r"""(?P<quote>["'`])(?P<value>[^"'`\n]{4,})(?P=quote)"""
)
_SECRET_WORDS = frozenset(
    {"key", "apikey", "secret", "secrets", "token", "credential", "credentials", "privatekey"}
)
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "pw"})
_NAME_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# The top-level domain is restricted so that matrix products such as
# ``self.x@self.w.weight`` are not mistaken for addresses.
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.(?:[A-Za-z]{2}|com|org|net|edu|gov|mil|int|io|dev|app|info|biz|name|pro|example|test"
    r"|invalid|local|localhost|email|cloud|tech|online|site)\b(?![(\w]|\.\w)"
)
_PLACEHOLDER = re.compile(
    r"(?i)^(<[^>]*>|\$\{.*\}|\{\{.*\}\}|x+|\*+|\.+|your[-_ ].*|changeme|example.*)$"
)


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s character distribution."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _placeholder(kind: str) -> str:
    return f"<REDACTED_{kind.upper()}>"


def _name_words(name: str) -> set[str]:
    """``dbPassword`` / ``DB_PASSWORD`` / ``db.password`` -> {"db", "password"}."""
    return {part.lower() for part in _NAME_PARTS.findall(name)}


def _last_word(name: str) -> str:
    parts = _NAME_PARTS.findall(name)
    return parts[-1].lower() if parts else ""


def _looks_random(value: str) -> bool:
    """Long, no spaces, letters and digits mixed, high entropy: a key, not a label."""
    return (
        len(value) >= 12
        and not any(c.isspace() for c in value)
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and shannon_entropy(value) >= 3.0
    )


def _assignment_kind(match: re.Match[str]) -> str | None:
    """``password`` / ``secret`` when the assignment's value is one, else None."""
    name, value = match.group("name"), match.group("value")
    if value.startswith("<REDACTED_") or _PLACEHOLDER.match(value.strip()):
        return None
    if _name_words(name) & _PASSWORD_WORDS:
        return "password"
    if _last_word(name) in _SECRET_WORDS and _looks_random(value):
        return "secret"
    return None


def _redact_assignments(text: str, counts: Counter[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        kind = _assignment_kind(match)
        if kind is None:
            return match.group(0)
        counts[kind] += 1
        start = match.start("value") - match.start(0)
        end = match.end("value") - match.start(0)
        whole = match.group(0)
        return whole[:start] + _placeholder(kind) + whole[end:]

    return _ASSIGNMENT.sub(replace, text)


def _sub_counting(pattern: re.Pattern[str], kind: str, text: str, counts: Counter[str]) -> str:
    new, n = pattern.subn(_placeholder(kind), text)
    counts[kind] += n
    return new


def redact_secrets(text: str) -> tuple[str, Counter[str]]:
    """``(redacted text, count per kind)``; kinds with no hit are absent from the counter."""
    counts: Counter[str] = Counter()
    # Substring pre-checks skip the slower patterns on the many texts they cannot match.
    if "PRIVATE KEY" in text:
        text = _sub_counting(_PRIVATE_KEY, "private_key", text, counts)
    for kind, pattern in _TOKEN_PATTERNS:
        text = _sub_counting(pattern, kind, text, counts)
    text = _redact_assignments(text, counts)
    if "@" in text:
        text = _sub_counting(_EMAIL, "email", text, counts)
    return text, +counts


Redactor = Callable[[str], tuple[str, Counter[str]]]


def secret_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of every secret in ``text``, sorted, overlaps merged.

    The detectors of :func:`redact_secrets`, run on the original text, so that a
    caller can redact and still map positions back (token scoring does).
    """
    found: list[tuple[int, int, str]] = []
    if "PRIVATE KEY" in text:
        found += [(m.start(), m.end(), "private_key") for m in _PRIVATE_KEY.finditer(text)]
    for kind, pattern in _TOKEN_PATTERNS:
        found += [(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    for match in _ASSIGNMENT.finditer(text):
        assigned = _assignment_kind(match)
        if assigned is not None:
            found.append((match.start("value"), match.end("value"), assigned))
    if "@" in text:
        found += [(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(found):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, kind))
    return merged
