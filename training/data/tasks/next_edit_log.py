"""Next-edit examples from acceptance logs: the edits users accepted.

The server logs each next-edit suggestion (records of ``kind`` ``next_edit``) with what
an example needs: the recent edits the model was shown (``events``), the editable region
(``region``) and where in it the edit goes (``edit_start``/``edit_end``, region
offsets, replacing ``replaced`` by ``text``). An accepted one becomes the example "this
region, after these edits, becomes the region with this edit applied" (kind ``log``),
in the same ``codegen`` format as the commit examples. A next-edit suggestion has no
retention measurement: its accept is the signal.

Outcomes (the manifest's reasons): ``log_next_edit_accepted`` (an example, unless the
hygiene drops it: ``log_next_edit_not_requested`` without ``--tasks next-edit``,
``log_unsupported_language``, ``log_next_edit_malformed`` for a record whose fields do
not fit together, ``log_redaction_failed``, ``log_contaminated (...)``,
``log_duplicate (exact, of ID)``), ``log_rejected``, ``log_shown_only``,
``log_incomplete``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from codegen.core.secrets import Redactor, redact_secrets, secret_spans
from codegen.core.usage_log import Suggestion

from ..decontam import ContaminationIndex
from ..dedup import exact_key
from .next_edit import EditCase, log_case

KIND = "next_edit"
ACCEPTED_EDIT = "log_next_edit_accepted"


def is_next_edit_record(record: Mapping[str, Any]) -> bool:
    return record.get("kind") == KIND


def next_edit_outcome(suggestion: Suggestion) -> str:
    """What the user did with a next-edit suggestion."""
    if suggestion.accepted:
        return ACCEPTED_EDIT
    if suggestion.rejected:
        return "log_rejected"
    return "log_shown_only" if suggestion.shown else "log_incomplete"


def redact_record(
    record: Mapping[str, Any], redactor: Redactor, redactions: Counter[str]
) -> dict[str, Any] | None:
    """The record with its region (cut at the edit, so the edit's offsets stay right),
    edit text and events redacted; None when a secret still shows across the cuts
    (fail closed). Raises what the redactor raises."""
    out = dict(record)
    region, start, end = record.get("region"), record.get("edit_start"), record.get("edit_end")
    if isinstance(region, str) and isinstance(start, int) and isinstance(end, int):
        pieces = [redactor(part) for part in (region[:start], region[start:end], region[end:])]
        for _, found in pieces:
            redactions.update(found)
        head, middle, tail = (text for text, _ in pieces)
        out.update(region=head + middle + tail, edit_start=len(head),
                   edit_end=len(head) + len(middle), replaced=middle)  # fmt: skip
    for name in ("text",):
        if isinstance(record.get(name), str):
            out[name], found = redactor(record[name])
            redactions.update(found)
    events = []
    for event in record.get("events") or []:
        if not isinstance(event, Mapping):
            continue
        event = dict(event)
        for name in ("old", "new"):
            if isinstance(event.get(name), str):
                event[name], found = redactor(event[name])
                redactions.update(found)
        events.append(event)
    out["events"] = events
    joined = str(out.get("region", "")) + "\n" + str(out.get("text", ""))
    return None if secret_spans(joined) else out


def accepted_edit_case(
    record: Mapping[str, Any], sid: str, file: str, language: str | None, build: bool,
    contamination: ContaminationIndex, redactions: Counter[str],
    decontamination: Counter[str], seen: dict[str, str],
    redactor: Redactor = redact_secrets,
) -> tuple[str, EditCase | None]:  # fmt: skip
    """``(reason, case or None)`` for an accepted next-edit suggestion (see the module
    docstring for the reasons); ``seen`` maps exact keys to the first suggestion's id."""
    if not build:
        return "log_next_edit_not_requested", None
    if language is None:
        return "log_unsupported_language", None
    try:
        clean = redact_record(record, redactor, redactions)
    except Exception as err:  # fail closed: a redaction bug must never leak the user's code
        return f"log_redaction_failed ({type(err).__name__})", None
    if clean is None:
        return "log_redaction_failed (a secret spans the edit)", None
    case = log_case(clean, file, language, sid)
    if case is None:
        return "log_next_edit_malformed", None
    match = contamination.match(case.context.region + "\n" + case.target)
    if match is not None:
        decontamination[match.benchmark] += 1
        return f"log_contaminated ({match.benchmark} {match.name})", None
    events = "".join(e.signed_lines() for e in case.context.events)
    key = exact_key("\x00".join((file, events, case.context.region, case.target)))
    if key in seen:
        return f"log_duplicate (exact, of {seen[key]})", None
    seen[key] = sid
    return ACCEPTED_EDIT, case
