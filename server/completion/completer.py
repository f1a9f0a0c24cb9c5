"""The completion pipeline, with its side effects at the edges.

``should_complete -> build_context -> build_prompt -> generate -> postprocess``,
preceded by the answers from memory (typed-ahead reuse, then the LRU cache)
and, for automatic triggers, the adaptive debounce. Generation runs on the
single model worker; a newer request for the same document supersedes this
one, and cancelling the request stops the engine at its next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from codegen.core.engine import (
    CancelToken,
    GenerationConfig,
    GenerationResult,
    StopFn,
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
from .cache import (
    NOTHING,
    CachedSuggestion,
    CompletionCache,
    TypedAhead,
    cache_key,
    context_fingerprint,
)
from .context import build_context
from .debounce import AdaptiveDebounce
from .gating import GateHolder, Scores, context_kind, features, scores_of
from .latency import Deadline, accepted_document
from .postprocess import FilterContext, make_stop_fn, postprocess
from .postprocess.base import detect_indent_unit
from .prompt import build_prompt
from .should_complete import AUTOMATIC, INVOKED, should_complete
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


@dataclass(frozen=True)
class Prepared:
    """One request made ready for the model: the prompt, and how to decode it and filter
    the answer."""

    prompt: str
    ctx: FilterContext
    config: GenerationConfig
    deadline: Deadline | None


@dataclass
class Background:
    """The speculative follow-up or background prefill running for a document."""

    task: asyncio.Task[None]
    fills: tuple[str, ...] | None = None
    """The cache key the work will fill (a speculation); None for a prefill."""

    def cancel(self) -> None:
        if not self.task.done():
            self.task.cancel()


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
        self._background: dict[str, Background] = {}
        """Per document: the speculative follow-up or background prefill running,
        cancelled by the next real request."""
        self._prefill_timers: dict[str, asyncio.TimerHandle] = {}
        self.generations = 0
        self.gate = GateHolder(lambda message: server.show(message))

    def configure(self, options: CompletionOptions) -> None:
        if options != self.options:  # the token limits, filters or sampling may differ
            self.cache.clear()
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
        timer = self._prefill_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        running = self._background.pop(uri, None)
        if running is not None:
            running.cancel()

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
        key = self._key(uri, prefix_tail, suffix_head, model_id, mode, docstring is not None)
        await self._settle_background(uri, key)
        cached = self.cache.get(key)
        if cached is not None and cached.empty:  # the model had nothing to suggest here
            server.stats.count("dropped.cache")
            return None
        if cached is not None:
            completion = self._answer(
                doc, line, col, cached, "cache", prefix_tail, suffix_head, start, 0.0, mode, kind
            )
            if completion is not None and opts.speculate:  # accepting in a chain
                self._speculate(doc, line, col, cached)
            return completion

        if trigger == AUTOMATIC:
            await asyncio.sleep(self.debounce.delay_ms() / 1000)
            if self._latest.get(uri) != seq or doc.version != version:
                server.stats.count("debounced")
                return None

        prepared = self._prepare(doc, line, col, mode, docstring, start=start)
        generated = await self._generate(prepared, uri)
        result = generated[0] if generated else None
        if result is None or result.finish_reason == "cancelled":
            server.stats.count("superseded")
            return None
        if doc.version != version or server.documents.get(uri) is not doc:
            server.stats.count("stale")
            return None
        answer = self._postprocess(generated, prepared.ctx, docstring)
        if answer is None:
            server.stats.count("dropped")
            self.cache.put(key, NOTHING)
            return None
        self.cache.put(key, answer)
        completion = self._answer(
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
        if completion is not None and opts.speculate:
            self._speculate(doc, line, col, answer)
        return completion

    def _postprocess(
        self,
        generated: list[GenerationResult],
        ctx: FilterContext,
        docstring: DocstringSite | None,
    ) -> CachedSuggestion | None:
        """The post-processed, deduplicated candidates; None when the first is dropped."""
        result = generated[0]
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
            return None
        first, *rest = found
        return CachedSuggestion(
            first[0], first[1], scores_of(result.logprobs, result.first_margin), tuple(rest)
        )

    def _key(
        self,
        uri: str,
        prefix: str,
        suffix: str,
        model_id: str,
        mode: CompletionMode,
        docstring: bool,
    ) -> tuple[str, ...]:
        """The cache key at a place of ``uri``, with the fingerprint of what its prompt may
        take from elsewhere: the other open documents (by version) when snippets are on,
        the recent ranges of other documents when that source is on."""
        server, opts = self.server, self.options
        parts: list[object] = []
        if opts.snippets.enabled:
            parts.append([(d.uri, d.version) for d in server.documents.others(uri)])
        if opts.recent_edits.enabled:
            parts.append([(c.uri, c.line, c.time) for c in server.edits.recent.others(uri)])
        elsewhere = context_fingerprint(parts) if parts else ""
        return cache_key(prefix, suffix, model_id, mode, docstring, elsewhere)

    # -- speculation and background prefill ------------------------------------------

    async def _settle_background(self, uri: str, key: tuple[str, ...]) -> None:
        """Before a real request: wait for the speculation that is computing exactly its
        answer; cancel any other background work on the document (it would delay it)."""
        running = self._background.pop(uri, None)
        if running is None:
            return
        task = running.task
        if task.done():
            return
        if running.fills == key:
            self.server.stats.count("speculation.awaited")
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(task)
            return
        task.cancel()

    def _run_background(
        self, uri: str, fills: tuple[str, ...] | None, work: Coroutine[Any, Any, None]
    ) -> None:
        previous = self._background.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self._background[uri] = Background(asyncio.ensure_future(work), fills)

    def _speculate(self, doc: Document, line: int, col: int, answer: CachedSuggestion) -> None:
        """Compute, in the background, the suggestion after accepting ``answer``."""
        server = self.server
        after, new_line, new_col = accepted_document(doc, line, col, answer.text, answer.cover)
        language = language_of(doc.uri, doc.language_id)
        current = line_content(after.lines[new_line])
        mode: CompletionMode = completion_mode(after.lines, new_line, new_col, language)
        mode = should_complete(mode, current[:new_col], current[new_col:], INVOKED)
        if mode == "none":
            return
        model_id = server.host.model_id()
        key = self._key(
            doc.uri, text_before(after, new_line, new_col), text_after(after, new_line, new_col),
            model_id, mode, False,
        )  # fmt: skip
        if self.cache.get(key) is not None:
            return

        async def work() -> None:
            # The prompt is built here, after the answer went out, not before it.
            prepared = self._prepare(after, new_line, new_col, mode, None)
            generated = await self._generate(prepared, doc.uri, job_key=f"speculate:{doc.uri}")
            if not generated or generated[0].finish_reason == "cancelled":
                return
            if server.host.model_id() != model_id:
                return
            # "Nothing to suggest" is remembered too: the request after the accept then
            # answers from memory instead of asking the model again for the same nothing.
            self.cache.put(key, self._postprocess(generated, prepared.ctx, None) or NOTHING)
            server.stats.count("speculation.ready")

        server.stats.count("speculation.started")
        self._run_background(doc.uri, key, work())

    def schedule_prefill(self, uri: str, line: int, character: int) -> None:
        """After an edit: prefill at (line, client column) once the user pauses."""
        pause = self.options.prefill_after_ms
        loop = getattr(self.server, "loop", None)
        if pause <= 0 or loop is None:
            return
        timer = self._prefill_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        version = None
        doc = self.server.documents.get(uri)
        if doc is not None:
            version = doc.version

        def fire() -> None:
            self._prefill_timers.pop(uri, None)
            current = self.server.documents.get(uri)
            if current is None or current.version != version:
                return  # typed on: the next pause will prefill
            self._run_background(uri, None, self._prefill(current, line, character))

        self._prefill_timers[uri] = loop.call_later(pause / 1000, fire)

    async def _prefill(self, doc: Document, line: int, character: int) -> None:
        server = self.server
        if not server.enabled or not self.options.enabled or not server.host.ready:
            return
        if not server.host.may_send(doc.uri):
            return
        line, col = doc.clamp(line, character, server.position_encoding)
        language = language_of(doc.uri, doc.language_id)
        mode: CompletionMode = completion_mode(doc.lines, line, col, language)
        if mode == "none":
            mode = "line"
        server.stats.count("prefill.started")
        prepared = self._prepare(doc, line, col, mode, None, prefill=True)
        generated = await self._generate(
            prepared, doc.uri, job_key=f"prefill:{doc.uri}", prefill=True
        )
        if generated and generated[0].finish_reason != "cancelled":
            server.stats.count("prefill.done")

    def _prepare(
        self,
        doc: Document,
        line: int,
        col: int,
        mode: CompletionMode,
        docstring: DocstringSite | None = None,
        *,
        start: float | None = None,
        prefill: bool = False,
    ) -> Prepared:
        """The prompt at a position with all its context, the decoding settings and the
        cache key. ``start``: when the request began, for ``completion.deadlineMs``.
        ``prefill``: only fill the KV cache."""
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
        stop_fn: StopFn = make_stop_fn(ctx)
        deadline = None
        if opts.deadline_ms > 0 and not prefill:
            began = start if start is not None else time.perf_counter()
            deadline = Deadline(stop_fn, began + opts.deadline_ms / 1000)
            stop_fn = deadline
        config = GenerationConfig(
            max_new_tokens=opts.max_new_tokens if mode == "multi" else SINGLE_LINE_TOKENS,
            temperature=opts.temperature,
            seed=opts.seed,
            stop=(*engine.fim.stop_strings, *(docstring.stops if docstring else ())),
            stop_fn=stop_fn,
        )
        if prefill:  # the prompt into the cache: nothing decoded in process, one token remote
            config = replace(config, max_new_tokens=1 if server.host.remote else 0)
        return Prepared(prompt, ctx, config, deadline)

    async def _generate(
        self, prepared: Prepared, uri: str, *, job_key: str | None = None, prefill: bool = False
    ) -> list[GenerationResult]:
        """The first candidate (at ``completion.temperature``) and the sampled alternatives
        (``completion.candidates`` in all), in one model job (keyed ``job_key``, default the
        document: a newer job with the key supersedes it)."""
        server, opts = self.server, self.options
        engine = server.host.engine
        assert engine is not None
        if hasattr(engine, "logprobs"):  # a remote engine: ask for them only when used
            engine.logprobs = server.acceptance.enabled or bool(opts.gate)
        prompt, config, deadline = prepared.prompt, prepared.config, prepared.deadline
        extra = 0 if prefill else min(max(opts.candidates, 1), MAX_CANDIDATES) - 1
        alternative = replace(
            config,
            temperature=opts.candidate_temperature,
            seed=(opts.seed or 0) + 1,
            use_cache_reuse=False,
        )

        def run(token: CancelToken) -> list[GenerationResult]:
            if not prefill:
                self.generations += 1
                server.stats.count("generations")
            first = engine.generate(prompt, config, token)
            if deadline is not None and deadline.fired:
                server.stats.count("deadline")
            if extra <= 0 or first.finish_reason == "cancelled" or token.cancelled:
                return [first]
            # Batched in process, one request with ``n`` on a server.
            more = generate_rows(
                engine, [prompt] * extra, sample_configs(alternative, extra), token
            )
            return [first, *more]

        try:
            return await run_model_job(server.worker, job_key or uri, run) or []
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
