import assert from "node:assert/strict";
import { test } from "node:test";
import {
  acceptedLength,
  END_OF_LIFE_IGNORED,
  END_OF_LIFE_REJECTED,
  InlineEvents,
  PARTIAL,
  REJECTED,
  type ServerItem,
  SHOWN,
  suggestionId,
} from "../src/inlineEvents";

const URI = "file:///w/main.py";

const sent = (id: string, insertText = "return 42"): ServerItem => ({
  insertText,
  range: { start: { line: 1, character: 4 }, end: { line: 1, character: 4 } },
  command: { title: "codegen: suggestion accepted", command: "codegen.acceptCompletion", arguments: [id] },
});

function recorder() {
  const calls: [string, object][] = [];
  const events = new InlineEvents<object>((method, params) => calls.push([method, params]));
  return { calls, events };
}

test("an item is known by its accept command's argument", () => {
  assert.equal(suggestionId(sent("abc")), "abc");
  assert.equal(suggestionId({ insertText: "x" }), undefined);
  assert.equal(suggestionId({ insertText: "x", command: { title: "", command: "other", arguments: ["abc"] } }), undefined);
  assert.equal(suggestionId({ insertText: "x", command: { title: "", command: "codegen.acceptCompletion", arguments: [3] } }), undefined);
});

test("the accepted length comes as a number or as {kind, acceptedLength}", () => {
  assert.equal(acceptedLength(6), 6);
  assert.equal(acceptedLength({ kind: 1, acceptedLength: 6 }), 6);
  assert.equal(acceptedLength(0), undefined);
  assert.equal(acceptedLength({ kind: 1 }), undefined);
  assert.equal(acceptedLength("6"), undefined);
  assert.equal(acceptedLength(null), undefined);
});

test("shown once per item, with the item as the server sent it", () => {
  const { calls, events } = recorder();
  const [a, b] = [{}, {}];
  events.remember(a, sent("a"), URI);
  events.remember(b, sent("b"), URI);
  events.shown(a);
  events.shown(a);
  events.shown(b);
  events.shown({}); // an item of another provider
  assert.deepEqual(calls, [
    [SHOWN, { item: sent("a") }],
    [SHOWN, { item: sent("b") }],
  ]);
});

test("partial accepts report growing lengths once, though VS Code calls twice", () => {
  const { calls, events } = recorder();
  const item = {};
  events.remember(item, sent("a"), URI);
  events.shown(item);
  events.partiallyAccepted(item, 6);
  events.partiallyAccepted(item, { kind: 1, acceptedLength: 6 });
  events.partiallyAccepted(item, 9);
  events.partiallyAccepted(item, { kind: 1, acceptedLength: 9 });
  assert.deepEqual(calls.slice(1), [
    [PARTIAL, { item: sent("a"), acceptedLength: 6 }],
    [PARTIAL, { item: sent("a"), acceptedLength: 9 }],
  ]);
});

test("a dismissed item that was shown and not taken is reported rejected", () => {
  const { calls, events } = recorder();
  const [shownOnly, taken, hidden, accepted] = [{}, {}, {}, {}];
  for (const [item, id] of [[shownOnly, "s"], [taken, "t"], [hidden, "h"], [accepted, "a"]] as const) {
    events.remember(item, sent(id), URI);
  }
  events.shown(shownOnly);
  events.shown(taken);
  events.partiallyAccepted(taken, 3);
  events.shown(accepted);
  events.ended(shownOnly, END_OF_LIFE_REJECTED);
  events.ended(shownOnly, END_OF_LIFE_REJECTED);
  events.ended(taken, END_OF_LIFE_REJECTED);
  events.ended(hidden, END_OF_LIFE_REJECTED);
  events.ended(accepted, 0);
  assert.deepEqual(
    calls.filter(([method]) => method === REJECTED),
    [[REJECTED, { id: "s" }]],
  );
});

test("items without the accept command (log off) are not reported", () => {
  const { calls, events } = recorder();
  const item = {};
  events.remember(item, { insertText: "x" }, URI);
  events.shown(item);
  events.partiallyAccepted(item, 1);
  events.ended(item, END_OF_LIFE_REJECTED);
  assert.deepEqual(calls, []);
});

test("after a partial accept the provider continues the same suggestion", () => {
  const { calls, events } = recorder();
  const first = {};
  events.remember(first, sent("a", "if n < 2:\r\n    return n"), URI);
  assert.equal(events.continuation(URI, () => ""), undefined, "nothing partly accepted yet");
  events.shown(first);
  events.partiallyAccepted(first, 2);
  // Another document, or text that is not the accepted part, ends it.
  assert.equal(events.continuation("file:///w/other.py", () => "if"), undefined);
  events.partiallyAccepted(first, 3);
  assert.equal(events.continuation(URI, () => "is "), undefined);
  assert.equal(events.continuation(URI, () => "if "), undefined, "ended by the mismatch");
  events.partiallyAccepted(first, 4);
  const partly = events.continuation(URI, (origin) => (origin === first ? "if n" : undefined));
  assert.ok(partly && partly.id === "a" && partly.accepted === 4);
  const rest = {};
  events.continueWith(rest, partly);
  events.ended(first, END_OF_LIFE_IGNORED); // VS Code replaced it by the rest
  events.shown(rest);
  // CRLF counts as one unit, as VS Code counts: "if n < 2:\n" is 10.
  events.partiallyAccepted(rest, 10);
  assert.ok(events.continuation(URI, () => "if n < 2:\r\n"));
  assert.deepEqual(
    calls.map(([method, params]) => [method, (params as { acceptedLength?: number }).acceptedLength]),
    [
      [SHOWN, undefined],
      [PARTIAL, 2],
      [PARTIAL, 3],
      [PARTIAL, 4],
      [PARTIAL, 10],
    ],
  );
  events.ended(rest, END_OF_LIFE_REJECTED); // partly taken: not a rejection, and the end
  assert.equal(calls.length, 5);
  assert.equal(events.continuation(URI, () => "if n < 2:\r\n"), undefined);
});
