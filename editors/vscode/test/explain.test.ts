import assert from "node:assert/strict";
import { test } from "node:test";
import { readExplanation } from "../src/explain";

test("frames are listed innermost first with 1-based lines", () => {
  const e = readExplanation({
    ok: true,
    exception: "ZeroDivisionError: division by zero",
    frames: [
      { uri: "file:///w/main.py", line: 9, function: "<module>", fix: false },
      { uri: "file:///w/my%20lib.py", line: 2, function: "ratio", fix: true },
    ],
  });
  assert.equal(e.error, undefined);
  assert.equal(e.exception, "ZeroDivisionError: division by zero");
  assert.deepEqual(
    e.frames.map((f) => [f.label, f.line, f.detail.startsWith("a fix")]),
    [
      ["my lib.py:3 in ratio", 2, true],
      ["main.py:10 in <module>", 9, false],
    ],
  );
});

test("refusals and odd answers become errors, not exceptions", () => {
  assert.equal(readExplanation({ ok: false, error: "give the traceback text" }).error, "give the traceback text");
  assert.ok(readExplanation(null).error);
  assert.deepEqual(readExplanation({ ok: true, frames: [{ line: 3 }] }).frames, []);
});
