"""The outbound redaction and its offset map (pure)."""

from __future__ import annotations

from codegen.core.remote.privacy import redact_outbound
from codegen.core.secrets import redact_secrets, secret_spans

SAMPLES = [
    "no secrets here\n",
    'API_KEY = "sk-abcdefghijklmnopqrstuvwx"\n',
    "mail me: dev@example.com or AKIAABCDEFGHIJKLMNOP\n",
    'db_password = "correct horse"\nx = 1\n',
    "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\ntail\n",
]


def test_outbound_redaction_agrees_with_the_training_scanner():
    for text in SAMPLES:
        assert redact_outbound(text).text == redact_secrets(text)[0]


def test_unchanged_text_maps_to_itself():
    red = redact_outbound("plain text")
    assert red.count == 0 and red.to_original(0, 5) == (0, 5)


def test_offsets_after_a_placeholder_map_back():
    text = 'k = "AKIAABCDEFGHIJKLMNOP"; tail = 1'
    red = redact_outbound(text)
    start = red.text.index("tail")
    assert red.to_original(start, start + 4) == (text.index("tail"), text.index("tail") + 4)
    inside = red.text.index("<REDACTED")
    assert red.to_original(inside, inside + 3) is None
    assert [kind for *_, kind in secret_spans(text)] == ["aws_access_key"]
