import assert from "node:assert/strict";
import { test } from "node:test";
import { parseServerStatus, shortModelName, statusText } from "../src/status";

test("the ready item names the model and the last latency", () => {
  const { text, tooltip } = statusText({
    phase: "ready",
    model: "Qwen/Qwen2.5-Coder-1.5B",
    adapter: "/runs/a1",
    lastLatencyMs: 123.4,
  });
  assert.equal(text, "$(sparkle) Qwen2.5-Coder-1.5B · 123 ms");
  assert.match(tooltip, /adapter: \/runs\/a1/);
  assert.match(tooltip, /last completion: 123 ms/);
});

test("other phases say what is happening", () => {
  assert.equal(statusText({ phase: "loading", model: "m" }).text, "$(loading~spin) codegen: loading model");
  assert.equal(statusText({ phase: "disabled" }).text, "$(circle-slash) codegen: off");
  assert.equal(statusText({ phase: "error", message: "boom" }).text, "$(error) codegen: error");
  assert.match(statusText({ phase: "error", message: "boom" }).tooltip, /boom/);
});

test("model names are shortened to their last part", () => {
  assert.equal(shortModelName("/home/me/models/tiny/"), "tiny");
  assert.equal(shortModelName("builtin:tiny"), "builtin:tiny");
});

test("server status answers are read tolerantly", () => {
  assert.deepEqual(parseServerStatus({ state: "loading", model: "m" }), { model: "m", phase: "loading" });
  assert.equal(parseServerStatus({ state: "ready" }).phase, "ready");
  assert.equal(parseServerStatus({ state: "idle" }).phase, "loading");
  assert.equal(parseServerStatus({ state: "failed", error: "no such model" }).phase, "error");
  assert.equal(parseServerStatus({ state: "failed", error: "no such model" }).message, "no such model");
  assert.equal(parseServerStatus({ loaded: true, enabled: false }).phase, "disabled");
  assert.equal(parseServerStatus({ model_loaded: false }).phase, "loading");
  assert.equal(parseServerStatus({ last_latency_ms: 42 }).lastLatencyMs, 42);
  assert.deepEqual(parseServerStatus("nonsense"), {});
  assert.deepEqual(parseServerStatus(null), {});
});
