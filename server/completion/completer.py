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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from codegen.core.engine import CancelToken, GenerationConfig, GenerationResult

from ..acceptance_log import AcceptanceLog
from ..docstrings.inline import DocstringSite, docstring_site, finish_docstring
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
from .postprocess import FilterContext, make_stop_fn, postprocess
from .postprocess.base import detect_indent_unit
from .prompt import build_prompt
from .should_complete import AUTOMATIC, should_complete
from .snippets import OpenDocument, SnippetIndex, find_snippets
from .syntax_mode import completion_mode, language_of

if TYPE_CHECKING:
    from codegen.core.syntax import CompletionMode

log = logging.getLogger(__name__)

TAIL_CHARS = 1500
SINGLE_LINE_TOKENS = 48


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
    enabled: bool

    @property
    def position_encoding(self) -> str: ...


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
        self.generations = 0

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
        key = cache_key(prefix_tail, suffix_head, model_id, mode)
        cached = self.cache.get(key)
        if cached is not None:
            return self._answer(doc, line, col, cached, "cache", prefix_tail, suffix_head, start)

        if trigger == AUTOMATIC:
            await asyncio.sleep(self.debounce.delay_ms() / 1000)
            if self._latest.get(uri) != seq or doc.version != version:
                server.stats.count("debounced")
                return None

        result, ctx = await self._generate(doc, line, col, mode, docstring)
        if result is None or result.finish_reason == "cancelled":
            server.stats.count("superseded")
            return None
        if doc.version != version or server.documents.get(uri) is not doc:
            server.stats.count("stale")
            return None
        if docstring is not None:
            suggestion = finish_docstring(result.text, ctx, docstring)
        else:
            suggestion = postprocess(result.text, ctx)
        if suggestion is None:
            server.stats.count("dropped")
            return None
        answer = CachedSuggestion(suggestion.text, suggestion.cover)
        self.cache.put(key, answer)
        return self._answer(
            doc, line, col, answer, "model", prefix_tail, suffix_head, start, result.stats.total_ms
        )

    async def _generate(
        self,
        doc: Document,
        line: int,
        col: int,
        mode: CompletionMode,
        docstring: DocstringSite | None = None,
    ) -> tuple[GenerationResult | None, FilterContext]:
        server, opts = self.server, self.options
        engine = server.host.engine
        assert engine is not None
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

        def run(token: CancelToken) -> GenerationResult:
            self.generations += 1
            server.stats.count("generations")
            return engine.generate(prompt, config, token)

        try:
            return await run_model_job(server.worker, doc.uri, run), ctx
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
    ) -> Completion:
        server = self.server
        model_id = server.host.model_id()
        self.typed.remember(doc.uri, prefix_tail, suffix_head, answer.text, answer.cover, model_id)
        eol = doc.eol
        text = answer.text.replace("\n", eol) if eol != "\n" else answer.text
        completion = Completion(uuid.uuid4().hex[:12], text, line, col, answer.cover, source)
        server.acceptance.offered(
            completion.id,
            {
                "uri": doc.uri,
                "language": doc.language_id,
                "model": model_id,
                "prefix": prefix_tail,
                "suffix": suffix_head,
                "text": answer.text,
                "source": source,
            },
        )
        server.stats.record(source, (time.perf_counter() - start) * 1000, engine_ms)
        return completion
