"""Start-up against a fake server: model listing, FIM format, API key, one-line failures."""

from __future__ import annotations

import logging
import socket

import pytest

from codegen.core.engine import Engine, GenerationConfig
from codegen.core.errors import CodegenError, FimFormatError
from codegen.core.load import is_remote, load_engine
from codegen.core.remote import RemoteEngine, connect
from codegen.core.remote.errors import AuthFailed, ServerUnreachable, UnknownServedModel

from .conftest import FAST
from .fake_server import TINY_IDS, FakeModelServer


def test_served_model_defaults_to_the_first_listed_and_fim_comes_from_the_tokenizer(vllm):
    engine = connect(vllm.url, settings=FAST)
    assert engine.model == "base"
    assert engine.fim.name == "qwen"
    assert engine.info()["remote"] is True
    assert engine.info()["server"] == "vllm"
    assert any(r["path"] == "/tokenize" for r in vllm.requests)


def test_an_explicit_fim_format_skips_detection():
    with FakeModelServer("openai") as server:
        engine = connect(server.url, settings=FAST, fim_format="tiny")
    assert engine.fim.name == "tiny"
    assert not any(r["path"] == "/tokenize" for r in server.requests)


def test_on_vllm_an_explicit_format_asks_only_for_its_sentinels_stop_ids(vllm):
    engine = connect(vllm.url, settings=FAST, fim_format="tiny")
    assert engine.fim.name == "tiny"
    asked = [r["body"]["prompt"] for r in vllm.requests if r["path"] == "/tokenize"]
    assert asked == list(dict.fromkeys(engine.fim.sentinels))
    assert engine.stop_token_ids == {s: vllm.sentinel_ids[s] for s in asked}


def test_the_tiny_tokenizer_is_told_from_qwen_by_its_sentinel_ids(vllm):
    vllm.sentinel_ids = dict(TINY_IDS)  # the same strings, at builtin:tiny's ids
    assert connect(vllm.url, settings=FAST).fim.name == "tiny"


def test_no_tokenizer_and_no_flag_is_an_error_naming_the_flag(vllm):
    vllm.tokenizer = False
    with pytest.raises(FimFormatError, match="--fim-format"):
        connect(vllm.url, settings=FAST)


def test_unknown_served_model_lists_what_is_served(vllm):
    with pytest.raises(UnknownServedModel) as err:
        connect(vllm.url, served_model="gpt-9", settings=FAST)
    message = str(err.value)
    assert "'gpt-9'" in message and "base, team-a, team-b" in message
    assert "--served-model" in message and "\n" not in message


def test_connection_refused_is_one_line_after_the_retries():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    with pytest.raises(ServerUnreachable) as err:
        connect(f"http://127.0.0.1:{port}/v1", settings=FAST)
    message = str(err.value)
    assert "connection refused" in message and "after 3 attempts" in message
    assert "\n" not in message


def test_api_key_from_the_environment_is_sent_and_never_shown(monkeypatch, caplog):
    key = "sk-test-0123456789abcdefXYZ"
    with FakeModelServer("vllm", api_key=key) as server:
        monkeypatch.delenv("CODEGEN_API_KEY", raising=False)
        with pytest.raises(AuthFailed, match="set CODEGEN_API_KEY"):
            connect(server.url, settings=FAST)
        monkeypatch.setenv("CODEGEN_API_KEY", "sk-wrong-key-0000000000000")
        with pytest.raises(AuthFailed) as err:
            connect(server.url, settings=FAST)
        assert "check CODEGEN_API_KEY" in str(err.value)
        assert "sk-wrong" not in str(err.value)
        monkeypatch.setenv("CODEGEN_API_KEY", key)
        with caplog.at_level(logging.DEBUG):
            engine = connect(server.url, settings=FAST)
            engine.generate("x", GenerationConfig())
        assert server.requests[-1]["headers"]["Authorization"] == f"Bearer {key}"
        assert key not in caplog.text
        assert key not in repr(engine.info()) and key not in engine.name


def test_api_key_variable_can_be_renamed(monkeypatch):
    with FakeModelServer("vllm", api_key="team-secret-value") as server:
        monkeypatch.setenv("TEAM_KEY", "team-secret-value")
        engine = load_engine(server.url, api_key_env="TEAM_KEY")
        assert isinstance(engine, RemoteEngine)
        monkeypatch.delenv("TEAM_KEY")
        with pytest.raises(AuthFailed, match="set TEAM_KEY"):
            load_engine(server.url, api_key_env="TEAM_KEY")


def test_a_server_error_mentioning_the_key_is_scrubbed(monkeypatch):
    key = "sk-echoed-0123456789abcdefghij"
    with FakeModelServer("vllm") as server:
        server.fail_times, server.fail_status = 1, 400
        monkeypatch.setenv("CODEGEN_API_KEY", key)
        original = server.fail_status
        # A server that echoes the header back in its error body.
        from . import fake_server

        handler_gate = fake_server._Handler._gate

        def echoing_gate(self):
            if self.fake.fail_times:
                self.fake.fail_times -= 1
                self._send_json(
                    original, {"error": {"message": f"bad {self.headers['Authorization']}"}}
                )
                return False
            return handler_gate(self)

        monkeypatch.setattr(fake_server._Handler, "_gate", echoing_gate)
        with pytest.raises(CodegenError) as err:
            connect(server.url, settings=FAST)
        assert key not in str(err.value) and "***" in str(err.value)


def test_load_engine_picks_the_backend_from_the_spec(vllm):
    assert is_remote("http://h:1/v1") and is_remote("HTTPS://h/v1")
    assert not is_remote("builtin:tiny") and not is_remote("Qwen/Qwen2.5-Coder-1.5B")
    engine = load_engine(vllm.url, fim_format="qwen")
    assert isinstance(engine, RemoteEngine) and isinstance(engine, Engine)


def test_a_url_that_is_not_an_openai_server_says_so():
    with FakeModelServer("vllm") as server:
        with pytest.raises(CodegenError, match="no /models|without a model list|has no"):
            connect(server.base + "/nope", settings=FAST)
