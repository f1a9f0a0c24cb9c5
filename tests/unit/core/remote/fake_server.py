"""A fake OpenAI-compatible model server on 127.0.0.1 for protocol and failure tests.

It answers the shapes vLLM and the llama.cpp server use (``/v1/models``,
``/v1/completions`` streamed or not, ``/tokenize``, ``/props``,
``/lora-adapters``) and misbehaves on request: a wrong API key gets 401, an
unknown model 404, ``fail_times`` requests get ``fail_status``, ``delay_s``
delays the answer, ``mode`` breaks the stream (``malformed``, ``bad_utf8``,
``truncated``). Like vLLM it refuses more than ``max_stop_strings`` stop strings
(HTTP 400), stops on ``stop_token_ids`` and, unless ``skip_special_tokens`` is
false, leaves the FIM sentinels (special tokens) out of the text it sends.
It records every request and every stream the client closed.
It is a test double for the wire protocol only; model behaviour is tested
against real engines.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

QWEN_SENTINELS = (
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|endoftext|>",
    "<|file_sep|>",
)
QWEN_IDS = dict(zip(QWEN_SENTINELS, (151659, 151661, 151660, 151643, 151664), strict=True))
"""Qwen2.5-Coder's ids of its sentinels."""
TINY_IDS = dict(zip(QWEN_SENTINELS, (1, 2, 3, 0, 5), strict=True))
"""builtin:tiny's: the same strings, as the first special tokens of its vocabulary."""


class FakeModelServer:
    def __init__(
        self,
        kind: str = "vllm",
        reply: str = "return 42\n",
        models: tuple[str, ...] = ("base",),
        loras: tuple[str, ...] = (),
        api_key: str | None = None,
        chunk_chars: int = 3,
    ) -> None:
        self.kind = kind
        self.reply = reply
        self.models = models
        self.loras = loras
        self.api_key = api_key
        self.chunk_chars = chunk_chars
        self.fail_times = 0
        self.fail_status = 503
        self.delay_s = 0.0
        self.chunk_delay_s = 0.0
        self.mode = "ok"
        self.tokenizer = True
        self.echo = True
        self.cached_tokens = 7
        self.sentinel_ids = dict(QWEN_IDS)
        self.max_stop_strings: int | None = None if kind == "llama.cpp" else 4
        self.requests: list[dict[str, Any]] = []
        self.aborted_streams = 0
        self.finished_streams = 0
        self.chunks_sent = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeModelServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        ThreadingHTTPServer.allow_reuse_address = True
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        httpd = self._httpd
        threading.Thread(
            target=lambda: httpd.serve_forever(poll_interval=0.02), daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base + "/v1"

    def completions(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"] == "/v1/completions"]

    # -- answers ------------------------------------------------------------------------
    def model_list(self) -> dict[str, Any]:
        owner = "llamacpp" if self.kind == "llama.cpp" else self.kind
        data = [{"id": m, "object": "model", "owned_by": owner} for m in self.models]
        if self.kind == "vllm":
            data += [
                {"id": n, "object": "model", "owned_by": owner, "parent": self.models[0]}
                for n in self.loras
            ]
        return {"object": "list", "data": data}

    def known_model(self, name: Any) -> bool:
        if self.kind == "llama.cpp":
            return True  # llama.cpp serves one model whatever the name
        return name in self.models or name in self.loras


class _Handler(BaseHTTPRequestHandler):
    fake: FakeModelServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send_json(self, status: int, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _record(self, body: Any) -> None:
        with self.fake._lock:
            self.fake.requests.append(
                {"path": self.path, "body": body, "headers": dict(self.headers.items())}
            )

    def _gate(self) -> bool:
        """Auth, injected failures and delay; False when an error was sent."""
        fake = self.fake
        if (
            fake.api_key is not None
            and self.headers.get("Authorization") != f"Bearer {fake.api_key}"
        ):
            self._send_json(
                401, {"error": {"message": "Invalid API key", "type": "auth", "code": 401}}
            )
            return False
        with fake._lock:
            failing = fake.fail_times > 0
            if failing:
                fake.fail_times -= 1
        if failing:
            self._send_json(
                fake.fail_status,
                {"error": {"message": "engine overloaded", "code": fake.fail_status}},
            )
            return False
        if fake.delay_s and self.path != "/v1/completions":
            time.sleep(fake.delay_s)
        return True

    def do_GET(self) -> None:
        self._record(None)
        if not self._gate():
            return
        fake = self.fake
        if self.path == "/v1/models":
            self._send_json(200, fake.model_list())
        elif self.path == "/props" and fake.kind == "llama.cpp":
            self._send_json(
                200, {"default_generation_settings": {"n_ctx": 4096}, "model_path": "/m/tiny.gguf"}
            )
        elif self.path == "/lora-adapters" and fake.kind == "llama.cpp":
            loras = [
                {"id": i, "path": f"/loras/{n}", "scale": 1.0} for i, n in enumerate(fake.loras)
            ]
            self._send_json(200, loras)
        else:
            self._send_json(404, {"error": {"message": "File Not Found", "code": 404}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        self._record(body)
        if not self._gate():
            return
        if self.path == "/tokenize" and self.fake.tokenizer:
            self._tokenize(body)
        elif self.path == "/v1/completions":
            self._complete(body)
        else:
            self._send_json(404, {"error": {"message": "File Not Found", "code": 404}})

    def _tokenize(self, body: dict[str, Any]) -> None:
        text = body.get("content") if self.fake.kind == "llama.cpp" else body.get("prompt")
        ids = self.fake.sentinel_ids
        tokens = [ids[text]] if text in ids else list(range(len(text or "")))
        self._send_json(200, {"tokens": tokens, "count": len(tokens)})

    def _complete(self, body: dict[str, Any]) -> None:
        fake = self.fake
        with fake._lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if fake.delay_s:
                time.sleep(fake.delay_s)
            self._complete_now(body)
        finally:
            with fake._lock:
                fake.in_flight -= 1

    def _complete_now(self, body: dict[str, Any]) -> None:
        fake = self.fake
        if not fake.known_model(body.get("model")):
            message = f"The model `{body.get('model')}` does not exist."
            self._send_json(
                404, {"error": {"message": message, "type": "NotFoundError", "code": 404}}
            )
            return
        if body.get("echo"):
            self._echo(body)
            return
        stops = body.get("stop") or []
        limit = fake.max_stop_strings
        if limit is not None and len(stops) > limit:  # vLLM's VLLM_MAX_STOP_STRINGS
            message = f"1 validation error: stop: List should have at most {limit} items"
            self._send_json(400, {"error": {"message": message, "code": 400}})
            return
        text, finish, stop_reason = _apply_stops(self._visible(body), stops)
        if stop_reason is None:
            stop_reason = self._stop_token(body)
        n = int(body.get("n") or 1)
        on_token = not isinstance(stop_reason, str) and finish == "stop"
        usage = {
            "prompt_tokens": len(body["prompt"]) // 4,
            "completion_tokens": len(text) // 2 + on_token,  # EOS / a stop token counts
            "prompt_tokens_details": {"cached_tokens": fake.cached_tokens},
        }
        if not body.get("stream"):
            choices = [
                {
                    "index": i,
                    "text": f"{text}{i}" if n > 1 else text,
                    "finish_reason": finish,
                    "stop_reason": stop_reason,
                    "logprobs": None,
                }
                for i in range(n)
            ]
            self._send_json(200, {"object": "text_completion", "choices": choices, "usage": usage})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            self._stream(body, text, finish, stop_reason, usage)
        except (BrokenPipeError, ConnectionResetError):
            with fake._lock:
                fake.aborted_streams += 1
            return
        with fake._lock:
            fake.finished_streams += 1

    def _cut_reply(self, body: dict[str, Any]) -> tuple[str, int | None]:
        """The reply up to the first sentinel among ``stop_token_ids``, and its id."""
        wanted = {i for i in body.get("stop_token_ids") or []}
        cut, which = len(self.fake.reply), None
        for sentinel, token in self.fake.sentinel_ids.items():
            i = self.fake.reply.find(sentinel)
            if token in wanted and i != -1 and i < cut:
                cut, which = i, token
        return self.fake.reply[:cut], which

    def _visible(self, body: dict[str, Any]) -> str:
        """The text a vLLM would send: special tokens left out unless asked for."""
        text, _ = self._cut_reply(body)
        if self.fake.kind == "vllm" and body.get("skip_special_tokens", True):
            for sentinel in self.fake.sentinel_ids:
                text = text.replace(sentinel, "")
        return text

    def _stop_token(self, body: dict[str, Any]) -> int | None:
        return self._cut_reply(body)[1]

    def _event(self, data: Any) -> None:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.wfile.write(b"data: " + raw + b"\n\n")
        self.wfile.flush()

    def _stream(
        self, body: dict[str, Any], text: str, finish: str, stop_reason: Any, usage: dict[str, Any]
    ) -> None:
        fake = self.fake
        if fake.mode == "malformed":
            self._event(b'{"choices": [{"text": "ret')
            return
        if fake.mode == "bad_utf8":
            self._event(b'{"choices": [{"index": 0, "text": "ok \xff\xfe"}]}')
            return
        self.wfile.write(b": ping\n\n")
        pieces = [text[i : i + fake.chunk_chars] for i in range(0, len(text), fake.chunk_chars)]
        for piece in pieces:
            if fake.chunk_delay_s:
                time.sleep(fake.chunk_delay_s)
            logprobs = (
                {"tokens": [piece], "token_logprobs": [-0.5], "top_logprobs": [{piece: -0.5}]}
                if body.get("logprobs")
                else None
            )
            self._event(
                {
                    "choices": [
                        {"index": 0, "text": piece, "finish_reason": None, "logprobs": logprobs}
                    ]
                }
            )
            with fake._lock:
                fake.chunks_sent += 1
        if fake.mode == "truncated":
            return
        last: dict[str, Any] = {
            "choices": [
                {"index": 0, "text": "", "finish_reason": finish, "stop_reason": stop_reason}
            ]
        }
        if fake.kind == "llama.cpp":
            last["timings"] = {
                "cache_n": fake.cached_tokens,
                "prompt_n": 5,
                "predicted_n": len(pieces),
            }
        self._event(last)
        if fake.kind != "llama.cpp":
            self._event({"choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")

    def _echo(self, body: dict[str, Any]) -> None:
        if not self.fake.echo or self.fake.kind == "llama.cpp":
            self._send_json(400, {"error": {"message": "echo is not supported", "code": 400}})
            return
        prompt = body["prompt"]
        tokens = re.findall(r"\s+|\w+|[^\w\s]", prompt) + ["<gen>"]
        offsets, pos = [], 0
        for tok in tokens:
            offsets.append(pos)
            pos += len(tok)
        values: list[float | None] = [None] + [-float(len(t)) for t in tokens[1:]]
        tops: list[dict[str, float] | None] = [None] + [{"best": -0.1} for _ in tokens[1:]]
        choice = {
            "index": 0,
            "text": prompt + "<gen>",
            "finish_reason": "length",
            "logprobs": {
                "tokens": tokens,
                "token_logprobs": values,
                "top_logprobs": tops,
                "text_offset": offsets,
            },
        }
        self._send_json(200, {"choices": [choice]})


def _apply_stops(reply: str, stops: list[str]) -> tuple[str, str, Any]:
    cut, which = len(reply), None
    for stop in stops:
        i = reply.find(stop)
        if i != -1 and i < cut:
            cut, which = i, stop
    if which is None:
        return reply, "stop", None  # the model's end-of-text token
    return reply[:cut], "stop", which
