"""Docstring skeletons: signatures parsed, each style's layout, model text made safe."""

from __future__ import annotations

from codegen.server.docstrings.format import clean_slot, jsdoc_skeleton, python_skeleton
from codegen.server.docstrings.signature import Param, Signature, js_signature, python_signature

WITHDRAW = """def withdraw(self, amount: float, *args, note=None, **extra) -> float:
    if amount < 0:
        raise ValueError("negative")
    def inner():
        raise KeyError("not ours")
    return self.balance - amount
"""


def test_python_signature_reads_params_returns_and_raises():
    sig = python_signature(WITHDRAW, "method", "withdraw")
    assert [p.name for p in sig.params] == ["amount", "*args", "note", "**extra"]
    assert sig.params[0].annotation == "float" and sig.params[2].default == "None"
    assert sig.returns == "float" and sig.raises == ("ValueError",)  # not the nested one
    gen = python_signature("def walk(tree):\n    yield tree\n", "function", "walk")
    assert gen.yields and gen.returns is None
    implicit = python_signature("def f(x):\n    return x\n", "function", "f")
    assert implicit.returns == ""  # returns a value, no annotation
    init = python_signature(
        "def __init__(self, x) -> None:\n    self.x = x\n", "method", "__init__"
    )
    assert init.returns is None and [p.name for p in init.params] == ["x"]


def test_python_signature_survives_a_broken_body():
    sig = python_signature("def f(a, b=1):\n    return (\n", "function", "f")
    assert [p.name for p in sig.params] == ["a", "b"]
    assert python_signature("def (:\n", "function", "f") == Signature("function", "f")


def render(style: str, sig: Signature) -> str:
    return python_skeleton(sig, style, "    ").render({"summary": "Do it."})


SIG = Signature("function", "f", (Param("x", "int"), Param("y")), "str", ("KeyError",))


def test_google_layout():
    assert render("google", SIG) == (
        '"""Do it.\n\n'
        "    Args:\n        x (int): _description_\n        y: _description_\n\n"
        "    Returns:\n        str: _description_\n\n"
        "    Raises:\n        KeyError: _description_\n"
        '    """'
    )


def test_numpy_layout():
    assert render("numpy", SIG) == (
        '"""Do it.\n\n'
        "    Parameters\n    ----------\n    x : int\n        _description_\n    y\n        _description_\n\n"
        "    Returns\n    -------\n    str\n        _description_\n\n"
        "    Raises\n    ------\n    KeyError\n        _description_\n"
        '    """'
    )


def test_sphinx_layout():
    assert render("sphinx", SIG) == (
        '"""Do it.\n\n'
        "    :param x: _description_\n    :type x: int\n    :param y: _description_\n"
        "    :returns: _description_\n    :rtype: str\n    :raises KeyError: _description_\n"
        '    """'
    )


def test_nothing_to_document_is_one_line_and_classes_only_summarise():
    assert render("google", Signature("function", "f")) == '"""Do it."""'
    assert render("numpy", Signature("class", "C", (Param("x"),))) == '"""Do it."""'
    assert python_skeleton(Signature("function", "f"), "google", "").render({}) == '"""_summary_"""'


def test_slots_render_placeholders_or_nothing_for_prompts():
    skeleton = python_skeleton(SIG, "google", "")
    slot_index = next(i for i, p in enumerate(skeleton.pieces) if not isinstance(p, str))
    assert skeleton.render({}, upto=slot_index) == '"""'
    later = skeleton.render({}, start=slot_index + 1, unfilled="")
    assert "_description_" not in later and "x (int): \n" in later


def test_javascript_signatures_and_jsdoc():
    sig = js_signature("function add(a, b = 2, {c, d}, ...rest) {", "function", "add", False)
    assert [(p.name, p.default) for p in sig.params] == [
        ("a", None),
        ("b", "2"),
        ("options", None),
        ("rest", None),
    ]
    ts = js_signature(
        "price(item: Map<string, number>, qty?: number): Promise<number> {", "method", "price", True
    )
    assert [p.name for p in ts.params] == ["item", "qty"] and ts.returns == "Promise<number>"
    arrow = js_signature("(x: number): void => {", "function", "f", True)
    assert arrow.returns is None
    doc = jsdoc_skeleton(sig, "  ").render({"summary": "Add."})
    assert doc == (
        "  /**\n  * Add.\n"
        "  * @param a - _description_\n  * @param [b] - _description_\n"
        "  * @param options - _description_\n  * @param rest - _description_\n  */\n"
    ).replace("  *", "   *")


def test_model_text_is_made_safe_inside_the_literal():
    assert clean_slot('the total"""\nimport os', "summary") == "The total."
    assert clean_slot("ends in a backslash \\", "param:x") == "ends in a backslash"
    assert clean_slot("closes */ the comment", "param:x") == "closes the comment"
    assert clean_slot("'''quoted'''", "param:x") == "quoted"
    assert clean_slot(', starts with junk "quote"', "param:x") == 'starts with junk "quote'
    assert clean_slot("))) 12 ((", "summary") == ""
    assert clean_slot("word " * 50, "param:x").count("word") <= 20


def test_a_slot_with_a_model_loop_is_dropped_for_the_placeholder():
    looping = "Return the the the the the the the the the the the the the."
    assert clean_slot(looping, "summary") == ""
    assert clean_slot("the guard_guard_guard flag", "param:x") == ""
    assert clean_slot("Antry.guard_guard_guard_guard_guard(foliolioliolio.hold", "summary") == ""
    assert clean_slot("calls obj.foo().foo().foo() on it", "returns") == ""
    assert clean_slot("the the ones", "param:x") == "the the ones"  # a typo, not a loop
    assert clean_slot("sets self.x = x, underlined with ====", "summary") == (
        "Sets self.x = x, underlined with ====."
    )
