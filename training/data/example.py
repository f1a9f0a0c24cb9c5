"""The row every task builder produces."""

from __future__ import annotations

from dataclasses import dataclass

TASKS: tuple[str, ...] = ("fim", "docstring", "fix", "lm", "next-edit")
"""Every task ``--tasks`` accepts."""
DEFAULT_TASKS: tuple[str, ...] = ("fim", "docstring", "fix", "lm")
"""What ``codegen-train data`` builds unless told (``next-edit`` is opt-in)."""
FILE_TASKS: tuple[str, ...] = ("fim", "docstring", "fix", "lm")
"""Tasks whose examples are cut from files, so split by file (``next-edit`` is split by
commit)."""


@dataclass(frozen=True)
class Example:
    """A prompt/completion pair; the loss goes on ``completion`` (``prompt`` is empty for ``lm``)."""

    task: str
    prompt: str
    completion: str
    path: str
    language: str

    def row(self, split: str) -> dict[str, str]:
        return {
            "task": self.task,
            "prompt": self.prompt,
            "completion": self.completion,
            "text": self.prompt + self.completion,
            "path": self.path,
            "language": self.language,
            "split": split,
        }


def line_windows(text: str, max_chars: int) -> list[tuple[int, int]]:
    """``[start, end)`` ranges covering ``text`` that end on line breaks, each at most
    ``max_chars`` long unless a single line is longer."""
    windows: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end = min(start + max_chars, len(text))
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut >= start else (text.find("\n", end) + 1 or len(text))
        windows.append((start, end))
        start = end
    return windows


def clip_prefix(text: str, end: int, max_chars: int) -> str:
    """``text[:end]`` shortened from the left to at most ``max_chars``, starting on a line."""
    start = max(0, end - max_chars)
    if start > 0:
        newline = text.find("\n", start, end)
        start = newline + 1 if newline != -1 else start
    return text[start:end]


def clip_suffix(text: str, start: int, max_chars: int) -> str:
    """``text[start:]`` shortened from the right to at most ``max_chars``, ending on a line."""
    end = min(len(text), start + max_chars)
    if end < len(text):
        newline = text.rfind("\n", start, end)
        end = newline + 1 if newline != -1 else end
    return text[start:end]
