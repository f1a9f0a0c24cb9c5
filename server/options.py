"""The server's options: a fully defaulted tree of small dataclasses.

On the wire (``initializationOptions``, ``workspace/didChangeConfiguration``
section ``codegen``) names are camelCase; in Python they are snake_case.
:func:`parse_options` never raises: each invalid value is replaced by its
default and described in a warning the server shows to the user.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from codegen.core.edit_prediction import EDIT_FORMAT_NAMES
from codegen.core.fim import FIM_FORMATS, FIM_ORDERS
from codegen.core.model import DEVICE_CHOICES, QUANTIZE_CHOICES

from .docstrings.format import STYLES


@dataclass
class ModelOptions:
    model: str = "builtin:tiny"
    """A Hugging Face id, a model directory, ``builtin:tiny``, or a server URL
    (``http://HOST:PORT/v1``: vLLM, llama.cpp server, any OpenAI-compatible one)."""
    adapter: str | None = None
    """In process: a LoRA adapter directory. On a server: the name of a served LoRA."""
    quantize: str = "none"
    device: str = "auto"
    fim_format: str | None = None
    served_model: str | None = None
    """On a server: the model to request (default: the first one it lists)."""
    api_key_env: str = "CODEGEN_API_KEY"
    """On a server: the environment variable holding its API key."""


@dataclass
class SnippetOptions:
    enabled: bool = True
    max_tokens: int = 400
    max_documents: int = 10
    window_lines: int = 16
    min_similarity: float = 0.2


@dataclass
class RecentEditsOptions:
    enabled: bool = True
    """Recently edited and visited ranges of other files as completion context."""
    max_tokens: int = 200
    """Their own budget, on top of the snippets'."""


@dataclass
class CompletionOptions:
    enabled: bool = True
    fallback: bool = False
    """Also answer ``textDocument/completion`` with the suggestion as one item."""
    max_context_tokens: int = 1500
    prefix_ratio: float = 0.7
    max_new_tokens: int = 96
    max_lines: int = 12
    max_blank_lines: int = 1
    min_length: int = 2
    """Drop suggestions with fewer non-blank characters than this."""
    temperature: float = 0.0
    seed: int | None = None
    """Sampling seed (with temperature > 0), for reproducible suggestions."""
    debounce_ms: int = 60
    adaptive_debounce: bool = True
    cache_size: int = 256
    fim_order: str = "auto"
    """``psm``, ``spm``, or ``auto``: the order the model's FIM format fills best."""
    snippets: SnippetOptions = field(default_factory=SnippetOptions)
    candidates: int = 1
    """Suggestions per request: the first (at ``temperature``) plus sampled alternatives,
    deduplicated after post-processing; the editor cycles through them."""
    candidate_temperature: float = 0.6
    """The alternatives' sampling temperature (even when ``temperature`` is 0)."""
    recent_edits: RecentEditsOptions = field(default_factory=RecentEditsOptions)
    deadline_ms: int = 0
    """Once this many ms have passed since the request, stop decoding at the next line
    break and show what is there (0: off)."""
    speculate: bool = False
    """While a suggestion is shown, compute the next one as if it were accepted."""
    prefill_after_ms: int = 0
    """After an edit and this long a pause, prefill the next prompt into the KV cache
    (the server's prompt cache on a remote engine; 0: off)."""
    gate: str | None = None
    """A show/no-show gate (``gate.json`` from ``codegen-train gate``): suggestions it
    predicts will not be accepted and kept are withheld."""


@dataclass
class NextEditOptions:
    enabled: bool = True
    """Answer ``textDocument/copilotInlineEdit``."""
    format: str = "auto"
    """``auto`` (our own format), ``codegen``, ``zeta`` or ``sweep``: see
    ``core/edit_prediction.py``."""
    lines_before: int = 3
    lines_after: int = 5
    """The editable region: lines around the cursor the model may rewrite."""
    max_events: int = 3
    """Recent edits shown to the model."""
    context_lines: int = 10
    """Lines of the file around the region (Zeta's excerpt)."""
    max_new_tokens: int = 160


@dataclass
class AcceptanceLogOptions:
    enabled: bool = False
    path: str | None = None
    """JSONL file; default ``~/.local/share/codegen/acceptance.jsonl``."""
    max_bytes: int = 20_000_000
    """Rotate the file when it would grow past this size (0: never)."""
    keep_files: int = 3
    """Rotated files kept (``acceptance.jsonl.1`` ... ``.N``); older ones are deleted."""
    retain_seconds: list[float] = field(default_factory=lambda: [30.0, 120.0])
    """Seconds after an accept at which the server measures how much of it is still there."""


@dataclass
class DocstringOptions:
    style: str = "google"
    """``google``, ``numpy`` or ``sphinx`` (JSDoc for JavaScript/TypeScript)."""
    max_new_tokens: int = 40
    """Per filled slot (the summary, each parameter, the return value)."""


@dataclass
class HintOptions:
    enabled: bool = True
    """Surprise hints on save and on ``codegen.checkFile``."""
    z_threshold: float = 2.0
    """A token is surprising when its log-probability is this many standard deviations
    below the file's mean."""
    min_margin: float = 3.0
    """...and the model's favourite token is this much (nats) more likely than it."""
    max_per_file: int = 5
    syntax_errors: bool = True
    """Tree-sitter syntax errors as diagnostics (no model)."""
    syntax_debounce_ms: int = 300


@dataclass
class Options:
    model: ModelOptions = field(default_factory=ModelOptions)
    completion: CompletionOptions = field(default_factory=CompletionOptions)
    acceptance_log: AcceptanceLogOptions = field(default_factory=AcceptanceLogOptions)
    next_edit: NextEditOptions = field(default_factory=NextEditOptions)
    docstrings: DocstringOptions = field(default_factory=DocstringOptions)
    hints: HintOptions = field(default_factory=HintOptions)


CHOICES: dict[str, tuple[str, ...]] = {
    "model.quantize": QUANTIZE_CHOICES,
    "model.device": DEVICE_CHOICES,
    "model.fimFormat": tuple(sorted(FIM_FORMATS)),
    "completion.fimOrder": ("auto", *FIM_ORDERS),
    "docstrings.style": STYLES,
    "nextEdit.format": ("auto", *EDIT_FORMAT_NAMES),
}
"""The allowed values of the options that take a name; each list comes from the code
that implements the names (``core`` for the model, the docstring formatter for styles)."""
RANGES: dict[str, tuple[float, float]] = {
    "completion.prefixRatio": (0.0, 1.0),
    "completion.temperature": (0.0, 2.0),
    "completion.candidateTemperature": (0.0, 2.0),
    "completion.snippets.minSimilarity": (0.0, 1.0),
}


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _check(path: str, value: Any, kind: Any) -> tuple[bool, Any]:
    """(ok, converted value) for one leaf."""
    optional = kind in (str | None, int | None)
    if value is None:
        return optional, None
    if kind == int | None:
        kind = int
    if kind is bool:
        return isinstance(value, bool), value
    if kind == list[float]:
        ok = isinstance(value, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value
        )
        return ok, [float(v) for v in value] if ok else value
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return ok, value
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        lo, hi = RANGES.get(path, (0.0, float("inf")))
        return ok and lo <= value <= hi, float(value) if ok else value
    if kind is str or optional:
        ok = isinstance(value, str) and value in CHOICES.get(path, (value,))
        return ok, value
    return False, value


def _merge(target: Any, data: Any, path: str, warnings: list[str]) -> None:
    if not isinstance(data, dict):
        warnings.append(f"option {path or 'codegen'} must be an object; ignoring it")
        return
    hints = get_type_hints(type(target))
    for key, value in data.items():
        name = to_snake(str(key))
        where = f"{path}.{key}" if path else str(key)
        if name not in hints or name.startswith("_"):
            warnings.append(f"unknown option {where}; ignoring it")
            continue
        kind = hints[name]
        if dataclasses.is_dataclass(kind):
            _merge(getattr(target, name), value, where, warnings)
            continue
        ok, converted = _check(where, value, kind)
        if ok:
            setattr(target, name, converted)
        else:
            default = getattr(target, name)
            hint = f" (one of {', '.join(CHOICES[where])})" if where in CHOICES else ""
            warnings.append(f"invalid option {where}={value!r}{hint}; using {default!r}")


def parse_options(data: Any, base: Options | None = None) -> tuple[Options, list[str]]:
    """Options from wire data merged over ``base`` (defaults), and the warnings.

    ``data`` may be the ``codegen`` section itself or an object holding it
    under the key ``codegen``; None means "no change".
    """
    options = _deep_copy(base) if base is not None else Options()
    warnings: list[str] = []
    if data is None:
        return options, warnings
    if isinstance(data, dict) and isinstance(data.get("codegen"), dict):
        data = data["codegen"]
    _merge(options, data, "", warnings)
    return options, warnings


def _deep_copy(options: Options) -> Options:
    return Options(
        model=dataclasses.replace(options.model),
        completion=dataclasses.replace(
            options.completion,
            snippets=dataclasses.replace(options.completion.snippets),
            recent_edits=dataclasses.replace(options.completion.recent_edits),
        ),
        next_edit=dataclasses.replace(options.next_edit),
        acceptance_log=dataclasses.replace(
            options.acceptance_log, retain_seconds=list(options.acceptance_log.retain_seconds)
        ),
        docstrings=dataclasses.replace(options.docstrings),
        hints=dataclasses.replace(options.hints),
    )


def to_wire(options: Any) -> dict[str, Any]:
    """The camelCase dictionary form of an options tree (for status and docs)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        out[to_camel(f.name)] = to_wire(value) if dataclasses.is_dataclass(value) else value
    return out
