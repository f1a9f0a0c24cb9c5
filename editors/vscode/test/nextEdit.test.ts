import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DEFAULT_CAPABILITY,
  editId,
  firstUsable,
  hintText,
  isAt,
  NextEdits,
  previewText,
  readCapability,
  type ServerInlineEdit,
} from "../src/nextEdit";

const URI = "file:///w/geo.py";

const edit = (id: string, line = 1, version = 2, text = ""): ServerInlineEdit => ({
  range: { start: { line, character: 11 }, end: { line, character: 15 } },
  text,
  textDocument: { uri: URI, version },
  command: { title: "codegen: next edit accepted", command: "codegen.acceptInlineEdit", arguments: [id] },
});

function recorder() {
  const calls: [string, unknown][] = [];
  const edits = new NextEdits(
    (method, params) => calls.push([method, params]),
    (command, args) => calls.push([command, args]),
    () => DEFAULT_CAPABILITY,
  );
  return { calls, edits };
}

test("the capability names the methods; none means no next edits", () => {
  const offered = { codegen: { nextEdit: { method: "m", shown: "s", accept: "a", reject: "r", formats: [] } } };
  assert.deepEqual(readCapability(offered), { method: "m", shown: "s", reject: "r" });
  assert.deepEqual(readCapability({ codegen: { nextEdit: {} } }), DEFAULT_CAPABILITY);
  assert.equal(readCapability({ codegen: {} }), undefined);
  assert.equal(readCapability(undefined), undefined);
});

test("only an answer for this document at this version is used", () => {
  const answer = { edits: [edit("a"), edit("b", 2)] };
  assert.equal(firstUsable(answer, URI, 2), answer.edits[0]);
  assert.equal(firstUsable(answer, URI, 3), undefined); // the document changed since
  assert.equal(firstUsable(answer, "file:///w/other.py", 2), undefined);
  assert.equal(firstUsable({ edits: [] }, URI, 2), undefined);
  assert.equal(firstUsable({ edits: [{ range: {}, text: "", textDocument: { uri: URI, version: 2 } }] }, URI, 2), undefined);
  assert.equal(firstUsable(null, URI, 2), undefined);
});

test("where the cursor is decides between jumping and applying; the texts shown", () => {
  const e = edit("a", 3, 2, "if w:\n    check(w)");
  assert.equal(editId(e), "a");
  assert.equal(editId({ ...e, command: undefined }), undefined);
  assert.equal(isAt(e, 3), true);
  assert.equal(isAt(e, 2), false);
  assert.equal(previewText(e), "if w:↵    check(w)");
  assert.equal(hintText(e, 0), "Tab: jump to the next edit");
  assert.equal(hintText(e, 3), "Tab: apply the next edit, Esc: dismiss");
});

test("shown once per edit; the accept runs the edit's command; a dismissal the reject command", () => {
  const { calls, edits } = recorder();
  edits.show(edit("a"));
  edits.show(edit("a")); // rendered again (the cursor moved)
  assert.deepEqual(edits.accepted(), edit("a"));
  assert.equal(edits.edit, undefined);
  edits.show(edit("b", 2, 3));
  edits.rejected();
  edits.rejected(); // nothing left to dismiss
  assert.deepEqual(calls, [
    ["textDocument/didShowInlineEdit", { item: edit("a") }],
    ["codegen.acceptInlineEdit", ["a"]],
    ["textDocument/didShowInlineEdit", { item: edit("b", 2, 3) }],
    ["codegen.rejectInlineEdit", ["b"]],
  ]);
});

test("an ignored edit (the user typed on) reports nothing", () => {
  const { calls, edits } = recorder();
  edits.show(edit("a"));
  edits.ignored();
  edits.rejected();
  assert.equal(edits.accepted(), undefined);
  assert.deepEqual(calls, [["textDocument/didShowInlineEdit", { item: edit("a") }]]);
});

test("a newer request supersedes older ones; the same spot is not asked twice in a row", () => {
  const { edits } = recorder();
  const at = { line: 0, character: 10 };
  assert.equal(edits.shouldAsk(URI, 2, at), true);
  const first = edits.begin(URI, 2, at);
  assert.equal(edits.shouldAsk(URI, 2, at), false);
  assert.equal(edits.shouldAsk(URI, 2, { line: 1, character: 0 }), true);
  assert.equal(edits.shouldAsk(URI, 3, at), true);
  const second = edits.begin(URI, 3, at);
  assert.equal(edits.current(first), false);
  assert.equal(edits.current(second), true);
  edits.supersede();
  assert.equal(edits.current(second), false);
  edits.forgetAsked();
  assert.equal(edits.shouldAsk(URI, 3, at), true);
});

test("after a dismissal nothing is asked at that version, anywhere", () => {
  const { edits } = recorder();
  edits.show(edit("a", 1, 5));
  edits.rejected();
  assert.equal(edits.shouldAsk(URI, 5, { line: 7, character: 0 }), false);
  assert.equal(edits.shouldAsk(URI, 6, { line: 7, character: 0 }), true);
});
