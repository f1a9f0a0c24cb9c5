"""The completion pipeline, with its side effects at the edges.

``should_complete -> build_context -> build_prompt -> generate -> postprocess``,
preceded by the answers from memory (typed-ahead reuse, then the LRU cache)
and, for automatic triggers, the adaptive debounce. Generation runs on the
single model worker; a newer request for the same document supersedes this
one, and cancelling the request stops the engine at its next step.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from codegen.core.engine import (
    CancelToken,
    GenerationConfig,
    GenerationResult,
    generate_rows,
    sample_configs,
)

from ..acceptance_log import AcceptanceLog
from ..docstrings.inline import DocstringSite, docstring_site, finish_docstring
from ..edits.history import fit_chunks
from ..edits.store import EditStore
from ..lsp.documents import Document, DocumentStore
from ..lsp.positions import line_content, with_lf
from ..model.host import EngineHost
from ..model.jobs import run_model_job
from ..model.worker import ModelWorker
from ..options import CompletionOptions
from ..stats import Stats
from .cache import CachedSuggestion, CompletionCache, TypedAhead, cache_key
from .context import build_context
from .debounce import AdaptiveDebounce
from .gating import GateHolder, Scores, context_kind, features, scores_of
from .postprocess import FilterContext, make_stop_fn, postprocess
from .postprocess.base import detect_indent_unit
from .prompt import build_prompt
from .should_complete import AUTOMATIC, should_complete
from .snippets import OpenDocument, Snippet, SnippetIndex, find_snippets
from .syntax_mode import completion_mode, language_of

if TYPE_CHECKING:
    from codegen.core.syntax import CompletionMode

log = logging.getLogger(__name__)

TAIL_CHARS = 1500
SINGLE_LINE_TOKENS = 48
MAX_CANDIDATES = 8
LOGGED_CONTEXT = 1000
"""Characters of code before (and after) the cursor kept with a logged suggestion."""


@dataclass(frozen=True)
class Completion:
    """A suggestion at (line, Python column); it replaces ``cover`` characters after it."""

    id: str
    text: str
    line: int
    col: int
    cover: int
    source: str
    """``model``, ``cache`` or ``typed``."""
    alternatives: tuple[tuple[str, str, int], ...] = ()
    """Further candidates as ``(id, text, cover)``, for the editor to cycle through."""


def text_before(doc: Document, line: int, col: int, limit: int = TAIL_CHARS) -> str:
    """Up to ``limit`` characters before the position, with ``\\n`` line endings."""
    parts = [line_content(doc.lines[line])[:col]]
    size = len(parts[0])
    i = line - 1
    while i >= 0 and size < limit:
        piece = with_lf(doc.lines[i])
        parts.append(piece)
        size += len(piece)
        i -= 1
    return "".join(reversed(parts))[-limit:]


def text_after(doc: Document, line: int, col: int, limit: int = TAIL_CHARS) -> str:
    parts = [line_content(doc.lines[line])[col:]]
    size = len(parts[0])
    i = line + 1
    while i < len(doc.lines) and size < limit:
        piece = "\n" + line_content(doc.lines[i])
        parts.append(piece)
        size += len(piece)
        i += 1
    return "".join(parts)[:limit]


def _indent_unit(window_text: str, lines: list[str]) -> str:
    """The indentation unit of the code around the cursor (what the model continues);
    the whole file's when the window has no indented line. The window is small, so this
    stays cheap on every request however large the file."""
    around = window_text.split("\n")
    if any(line[:1] in (" ", "\t") and line.strip() for line in around):
        return detect_indent_unit(around)
    return detect_indent_unit(lines)


def _path_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class CompletionServer(Protocol):
    """What the completer reads from the server (the session satisfies it)."""

    documents: DocumentStore
    host: EngineHost
    worker: ModelWorker
    stats: Stats
    acceptance: AcceptanceLog
    edits: EditStore
    enabled: bool

    @property
    def position_encoding(self) -> str: ...

    def show(self, message: str) -> None: ...


class Completer:
    """Holds the pipeline's memory (cache, typed-ahead, debounce) for one server."""

    def __init__(self, server: CompletionServer) -> None:
        self.server = server
        self.options = CompletionOptions()
        self.cache = CompletionCache(self.options.cache_size)
        self.typed = TypedAhead()
        self.snippets = SnippetIndex()
        self.debounce = AdaptiveDebounce(self.options.debounce_ms, self.options.adaptive_debounce)
        self._latest: dict[str, int] = {}
        self._changed_at: dict[str, float] = {}
        self.generations = 0
        self.gate = GateHolder(lambda message: server.show(message))

    def configure(self, options: CompletionOptions) -> None:
        self.options = options
        self.cache.size = options.cache_size
        self.debounce.base_ms = options.debounce_ms
        self.debounce.adaptive = options.adaptive_debounce

    def forget_all(self) -> None:
        """Drop every remembered answer (the model or adapter changed)."""
        self.cache.clear()
        self.typed = TypedAhead()

    def forget(self, uri: str) -> None:
        self.typed.forget(uri)
        self.snippets.forget(uri)
        self._changed_at.pop(uri, None)

    def note_change(self, uri: str) -> None:
        """The document changed now (a keystroke): the gate's time-since-keystroke."""
        self._changed_at[uri] = time.perf_counter()

    async def complete(
        self, uri: str, line: int, character: int, trigger: str
    ) -> Completion | None:
        """The suggestion for a position, or None; never raises for bad input."""
        start = time.perf_counter()
        server, opts = self.server, self.options
        doc = server.documents.get(uri)
        if doc is None or not server.enabled or not opts.enabled or not server.host.ready:
            return None
        if not server.host.may_send(uri):  # a remote engine never sees .env / git-ignored files
            server.stats.count("private")
            return None
        line, col = doc.clamp(line, character, server.position_encoding)
        version = doc.version
        seq = self._latest[uri] = self._latest.get(uri, 0) + 1
        now_ms = start * 1000
        if trigger == AUTOMATIC:
            self.debounce.observe(uri, now_ms)
        model_id = server.host.model_id()
        prefix_tail = text_before(doc, line, col)
        suffix_head = text_after(doc, line, col)

        reuse = self.typed.lookup(uri, prefix_tail, suffix_head, model_id)
        if reuse is not None:
            return self._answer(doc, line, col, reuse, "typed", prefix_tail, suffix_head, start)

        language = language_of(uri, doc.language_id)
        current = line_content(doc.lines[line])
        mode: CompletionMode = completion_mode(doc.lines, line, col, language)
        docstring = docstring_site(doc.lines, line, col) if language == "python" else None
        if docstring is not None:  # in a freshly typed """ under a def: multi-line prose
            mode = "multi"
        mode = should_complete(mode, current[:col], current[col:], trigger)
        if mode == "none":
            return None
        kind = context_kind(current[:col], current[col:], docstring is not None)
        key = cache_key(prefix_tail, suffix_head, model_id, mode)
        cached = self.cache.get(key)
        if cached is not None:
            return self._answer(
                doc, line, col, cached, "cache", prefix_tail, suffix_head, start, 0.0, mode, kind
            )

        if trigger == AUTOMATIC:
            await asyncio.sleep(self.debounce.delay_ms() / 1000)
            if self._latest.get(uri) != seq or doc.version != version:
                server.stats.count("debounced")
                return None

        generated, ctx = await self._generate(doc, line, col, mode, docstring)
        result = generated[0] if generated else None
        if result is None or result.finish_reason == "cancelled":
            server.stats.count("superseded")
            return None
        if doc.version != version or server.documents.get(uri) is not doc:
            server.stats.count("stale")
            return None
        found: list[tuple[str, int]] = []
        for candidate in generated:
            if candidate.finish_reason == "cancelled":
                continue
            if docstring is not None:
                suggestion = finish_docstring(candidate.text, ctx, docstring)
            else:
                suggestion = postprocess(candidate.text, ctx)
            if suggestion is not None and all(suggestion.text != t for t, _ in found):
                found.append((suggestion.text, suggestion.cover))
            if candidate is result and suggestion is None:
                break  # the first candidate is what the user sees: no first, no answer
        if not found:
            server.stats.count("dropped")
            return None
        first, *rest = found
        answer = CachedSuggestion(
            first[0],
            first[1],
            scores_of(result.logprobs, result.first_margin),
            tuple(rest),
        )
        self.cache.put(key, answer)
        return self._answer(
            doc,
            line,
            col,
            answer,
            "model",
            prefix_tail,
            suffix_head,
            start,
            result.stats.total_ms,
            mode,
            kind,
        )

    async def _generate(
        self,
        doc: Document,
        line: int,
        col: int,
        mode: CompletionMode,
        docstring: DocstringSite | None = None,
    ) -> tuple[list[GenerationResult], FilterContext]:
        """The first candidate (at ``completion.temperature``) and the sampled alternatives
        (``completion.candidates`` in all), in one model job."""
        server, opts = self.server, self.options
        engine = server.host.engine
        assert engine is not None
        if hasattr(engine, "logprobs"):  # a remote engine: ask for them only when used
            engine.logprobs = server.acceptance.enabled or bool(opts.gate)
        window = build_context(
            doc.lines, line, col, engine.count_tokens, opts.max_context_tokens, opts.prefix_ratio
        )
        ctx = FilterContext(
            prefix=window.prefix,
            suffix=window.suffix,
            mode=mode,
            indent_unit=_indent_unit(window.prefix + window.suffix, doc.lines),
            # Suggestions are remembered with "\n" (typed-ahead compares them
            # with normalised text); the document's line endings go on at the end.
            eol="\n",
            max_lines=opts.max_lines,
            max_blank_lines=opts.max_blank_lines,
            min_length=opts.min_length,
        )
        snippets = []
        if opts.snippets.enabled:
            self.snippets.retain({d.uri for d in server.documents.others(doc.uri)})
            others = [
                OpenDocument(d.uri, _path_of(d.uri), d.version, d.lines)
                for d in server.documents.others(doc.uri)[-opts.snippets.max_documents :]
                if d.language_id == doc.language_id and server.host.may_send(d.uri)
            ]
            query = "\n".join(window.prefix.split("\n")[-opts.snippets.window_lines :])
            snippets = find_snippets(
                self.snippets,
                query,
                others,
                engine.count_tokens,
                opts.snippets.max_tokens,
                opts.snippets.window_lines,
                opts.snippets.min_similarity,
            )
        if opts.recent_edits.enabled:
            # Recently edited and visited ranges of other files, under their own budget.
            chunks = [c for c in server.edits.recent.others(doc.uri) if server.host.may_send(c.uri)]
            recent = fit_chunks(chunks, engine.count_tokens, opts.recent_edits.max_tokens)
            snippets = [Snippet(c.path, c.line, c.text, 1.0) for c in recent] + list(snippets)
        prompt = build_prompt(
            engine.fim,
            window.prefix,
            window.suffix,
            snippets,
            _path_of(doc.uri),
            doc.language_id,
            engine.fim.default_order if opts.fim_order == "auto" else opts.fim_order,
        )
        config = GenerationConfig(
            max_new_tokens=opts.max_new_tokens if mode == "multi" else SINGLE_LINE_TOKENS,
            temperature=opts.temperature,
            seed=opts.seed,
            stop=(*engine.fim.stop_strings, *(docstring.stops if docstring else ())),
            stop_fn=make_stop_fn(ctx),
        )

        extra = min(max(opts.candidates, 1), MAX_CANDIDATES) - 1
        alternative = replace(
            config,
            temperature=opts.candidate_temperature,
            seed=(opts.seed or 0) + 1,
            use_cache_reuse=False,
        )

        def run(token: CancelToken) -> list[GenerationResult]:
            self.generations += 1
            server.stats.count("generations")
            first = engine.generate(prompt, config, token)
            if extra <= 0 or first.finish_reason == "cancelled" or token.cancelled:
                return [first]
            # Batched in process, one request with ``n`` on a server.
            more = generate_rows(
                engine, [prompt] * extra, sample_configs(alternative, extra), token
            )
            return [first, *more]

        try:
            return await run_model_job(server.worker, doc.uri, run) or [], ctx
        except asyncio.CancelledError:
            server.stats.count("cancelled")
            raise

    def _answer(
        self,
        doc: Document,
        line: int,
        col: int,
        answer: CachedSuggestion,
        source: str,
        prefix_tail: str,
        suffix_head: str,
        start: float,
        engine_ms: float = 0.0,
        mode: str = "line",
        kind: str = "end_of_line",
    ) -> Completion | None:
        server = self.server
        language = language_of(doc.uri, doc.language_id) or doc.language_id
        changed = self._changed_at.get(doc.uri)
        since_ms = (start - changed) * 1000 if changed is not None and changed <= start else None
        accept_rate = server.acceptance.recent_accept_rate()

        def features_of(text: str) -> dict[str, Any]:
            scores = answer.scores if text == answer.text else Scores()
            return features(text, scores, mode == "multi", kind, language, since_ms, accept_rate)

        shown = features_of(answer.text)
        if source != "typed":  # typing into a shown suggestion is never withheld
            gate = self.gate.get(self.options.gate)
            if gate is not None and not gate.allows(shown):
                server.stats.count("gated")
                return None
        model_id = server.host.model_id()
        self.typed.remember(doc.uri, prefix_tail, suffix_head, answer.text, answer.cover, model_id)
        eol = doc.eol
        candidates = [(answer.text, answer.cover), *answer.alternatives]
        ids = [uuid.uuid4().hex[:12] for _ in candidates]
        latency_ms = (time.perf_counter() - start) * 1000
        if server.acceptance.enabled:
            adapter = server.host.info().get("adapter")
            for index, ((text, _), sid) in enumerate(zip(candidates, ids, strict=True)):
                server.acceptance.offered(
                    sid,
                    {
                        "uri": doc.uri,
                        "path": _path_of(doc.uri),
                        "language": language,
                        "model": model_id,
                        "adapter": adapter,
                        "source": source,
                        "latency_ms": round(latency_ms, 2),
                        "text": text,
                        "line": line,
                        "col": col,
                        "prefix": prefix_tail[-LOGGED_CONTEXT:],
                        "suffix": suffix_head[:LOGGED_CONTEXT],
                        "features": shown if index == 0 else features_of(text),
                        "candidate": index,
                        "_insert_text": text.replace("\n", eol) if eol != "\n" else text,
                    },
                )
        server.stats.record(source, latency_ms, engine_ms)
        with_eol = [t.replace("\n", eol) if eol != "\n" else t for t, _ in candidates]
        return Completion(
            ids[0],
            with_eol[0],
            line,
            col,
            answer.cover,
            source,
            tuple(
                (sid, text, cover)
                for sid, text, (_, cover) in zip(ids[1:], with_eol[1:], candidates[1:], strict=True)
            ),
        )
