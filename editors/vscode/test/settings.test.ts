import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DEFAULT_SETTINGS,
  needsRestart,
  readSettings,
  serverCommand,
  serverOptions,
  type Settings,
} from "../src/settings";

const from = (values: Record<string, unknown>) => readSettings((key) => values[key]);

test("missing settings take their defaults", () => {
  assert.deepEqual(from({}), DEFAULT_SETTINGS);
});

test("invalid values fall back to defaults instead of failing", () => {
  const s = from({
    quantize: "3bit",
    device: "tpu",
    "completion.maxNewTokens": -5,
    "completion.temperature": "hot",
    serverArgs: ["--log", 7],
    model: "  ",
  });
  assert.equal(s.quantize, "none");
  assert.equal(s.device, "auto");
  assert.equal(s.completion.maxNewTokens, 96);
  assert.equal(s.completion.temperature, 0);
  assert.equal(from({ "completion.candidates": 0 }).completion.candidates, 1);
  assert.equal(from({ "completion.candidates": 20 }).completion.candidates, 8);
  assert.deepEqual(s.serverArgs, ["--log"]);
  assert.equal(s.model, "builtin:tiny");
});

test("serverPath wins over pythonPath, which wins over PATH", () => {
  const both = from({ serverPath: "/opt/bin/codegen-lsp", pythonPath: "/usr/bin/python3" });
  assert.deepEqual(serverCommand(both), { command: "/opt/bin/codegen-lsp", args: ["--stdio"] });
  const python = from({ pythonPath: "/venv/bin/python", serverArgs: ["--model", "fake:"] });
  assert.deepEqual(serverCommand(python), {
    command: "/venv/bin/python",
    args: ["-m", "codegen.server.cli", "--stdio", "--model", "fake:"],
  });
  assert.deepEqual(serverCommand(from({})), { command: "codegen-lsp", args: ["--stdio"] });
});

test("server options mirror the settings; an empty adapter means none", () => {
  const s = from({ model: "Qwen/Qwen2.5-Coder-1.5B", quantize: "4bit", device: "cuda" });
  assert.deepEqual(serverOptions(s), {
    model: { model: "Qwen/Qwen2.5-Coder-1.5B", adapter: null, quantize: "4bit", device: "cuda" },
    completion: { enabled: true, maxNewTokens: 96, maxLines: 12, temperature: 0, debounceMs: 60, candidates: 1 },
    acceptanceLog: { enabled: false },
  });
  assert.deepEqual(
    serverOptions(from({ "acceptanceLog.enabled": true, "acceptanceLog.path": " /tmp/a.jsonl " })).acceptanceLog,
    { enabled: true, path: "/tmp/a.jsonl" },
  );
  assert.deepEqual(serverOptions(from({ adapter: "/runs/a1" })).model, {
    model: "builtin:tiny",
    adapter: "/runs/a1",
    quantize: "none",
    device: "auto",
  });
});

test("model settings restart the server; completion settings do not", () => {
  const base: Settings = from({});
  assert.equal(needsRestart(base, from({ model: "/models/other" })), true);
  assert.equal(needsRestart(base, from({ quantize: "8bit" })), true);
  assert.equal(needsRestart(base, from({ serverArgs: ["--model", "fake:"] })), true);
  assert.equal(needsRestart(base, from({ "completion.maxNewTokens": 16 })), false);
  assert.equal(needsRestart(base, from({ "acceptanceLog.enabled": true })), false);
  assert.equal(needsRestart(base, from({ "nextEdit.enabled": false })), false);
  assert.equal(needsRestart(base, from({})), false);
});

test("next-edit settings: defaults, invalid values, and nothing of them sent to the server", () => {
  assert.deepEqual(from({}).nextEdit, { enabled: true, debounceMs: 300 });
  assert.deepEqual(from({ "nextEdit.enabled": false, "nextEdit.debounceMs": 120.7 }).nextEdit, {
    enabled: false,
    debounceMs: 120,
  });
  assert.deepEqual(from({ "nextEdit.enabled": "no", "nextEdit.debounceMs": -1 }).nextEdit, DEFAULT_SETTINGS.nextEdit);
  assert.equal("nextEdit" in serverOptions(from({ "nextEdit.enabled": false })), false);
});
