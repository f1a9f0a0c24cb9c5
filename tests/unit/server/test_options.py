from __future__ import annotations

from codegen.server.options import Options, parse_options, to_wire


def test_camel_case_values_override_defaults():
    opts, warnings = parse_options(
        {"completion": {"maxLines": 3, "snippets": {"maxTokens": 10}}, "model": {"device": "cpu"}}
    )
    assert warnings == []
    assert opts.completion.max_lines == 3
    assert opts.completion.snippets.max_tokens == 10
    assert opts.model.device == "cpu"


def test_invalid_values_warn_and_keep_defaults():
    opts, warnings = parse_options(
        {"codegen": {"completion": {"maxLines": "many", "prefixRatio": 2}, "bogus": 1}}
    )
    assert opts.completion.max_lines == Options().completion.max_lines
    assert opts.completion.prefix_ratio == 0.7
    assert len(warnings) == 3
    assert any("completion.maxLines" in w for w in warnings)
    assert any("unknown option bogus" in w for w in warnings)


def test_wrong_shapes_never_raise():
    for data in ([1, 2], "x", 3, {"completion": 5}, {"model": {"quantize": "3bit"}}):
        opts, warnings = parse_options(data)
        assert isinstance(opts, Options)
        assert warnings


def test_base_is_not_mutated_and_wire_form_is_camel_case():
    base = Options()
    base.model.model = "fake:"
    opts, _ = parse_options({"model": {"adapter": "/tmp/a"}}, base)
    assert opts.model.model == "fake:"
    assert base.model.adapter is None
    wire = to_wire(opts)
    assert wire["completion"]["maxContextTokens"] == 1500
    assert wire["acceptanceLog"]["enabled"] is False


def test_fim_format_must_name_a_format_core_knows():
    opts, warnings = parse_options({"model": {"fimFormat": "qwen"}})
    assert opts.model.fim_format == "qwen" and warnings == []
    opts, warnings = parse_options({"model": {"fimFormat": "gpt9"}})
    assert opts.model.fim_format is None
    (warning,) = warnings
    assert "model.fimFormat='gpt9'" in warning and "starcoder" in warning
