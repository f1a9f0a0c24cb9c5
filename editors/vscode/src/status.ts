/**
 * What the status-bar item says. Pure: the state is plain data, built from the
 * server's `codegen.status` answer and the latencies the client measures.
 */

export type Phase = "starting" | "loading" | "ready" | "disabled" | "stopped" | "error";

export interface StatusState {
  phase: Phase;
  model?: string;
  adapter?: string | null;
  device?: string;
  lastLatencyMs?: number;
  message?: string;
}

const ICONS: Record<Phase, string> = {
  starting: "$(loading~spin)",
  loading: "$(loading~spin)",
  ready: "$(sparkle)",
  disabled: "$(circle-slash)",
  stopped: "$(debug-stop)",
  error: "$(error)",
};

/** A model id shortened to its last path part: `Qwen/Qwen2.5-Coder-1.5B` -> `Qwen2.5-Coder-1.5B`. */
export function shortModelName(model: string): string {
  const parts = model.replace(/[\\/]+$/, "").split(/[\\/]/);
  return parts[parts.length - 1] || model;
}

/** The item's text (with a codicon) and its hover text. */
export function statusText(s: StatusState): { text: string; tooltip: string } {
  const name = s.model ? shortModelName(s.model) : "codegen";
  const words: Record<Phase, string> = {
    starting: "starting",
    loading: "loading model",
    ready: name,
    disabled: "off",
    stopped: "stopped",
    error: "error",
  };
  let text = `${ICONS[s.phase]} ${s.phase === "ready" ? name : `codegen: ${words[s.phase]}`}`;
  if (s.phase === "ready" && s.lastLatencyMs !== undefined) {
    text += ` · ${Math.round(s.lastLatencyMs)} ms`;
  }
  const lines = [`codegen: ${words[s.phase] === name ? "ready" : words[s.phase]}`];
  if (s.model) lines.push(`model: ${s.model}`);
  if (s.adapter) lines.push(`adapter: ${s.adapter}`);
  if (s.device) lines.push(`device: ${s.device}`);
  if (s.lastLatencyMs !== undefined) lines.push(`last completion: ${Math.round(s.lastLatencyMs)} ms`);
  if (s.message) lines.push(s.message);
  lines.push("Click for the status; `codegen: Toggle Inline Completions` turns it off.");
  return { text, tooltip: lines.join("\n") };
}

function pick(obj: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) {
    if (obj[k] !== undefined && obj[k] !== null) return obj[k];
  }
  return undefined;
}

/**
 * Reads the server's `codegen.status` answer. Tolerant by design: unknown shapes
 * give an empty update rather than an error, so an older server still works.
 */
export function parseServerStatus(result: unknown): Partial<StatusState> {
  if (typeof result !== "object" || result === null) return {};
  const r = result as Record<string, unknown>;
  const out: Partial<StatusState> = {};
  const model = pick(r, "model", "modelName", "model_name");
  if (typeof model === "string") out.model = model;
  const adapter = pick(r, "adapter", "activeAdapter", "active_adapter");
  if (typeof adapter === "string") out.adapter = adapter;
  const device = pick(r, "device");
  if (typeof device === "string") out.device = device;
  const latency = pick(r, "lastLatencyMs", "last_latency_ms", "latencyMs", "latency_ms");
  if (typeof latency === "number") out.lastLatencyMs = latency;
  const enabled = pick(r, "enabled", "completionsEnabled", "completions_enabled");
  const state = pick(r, "state", "status", "phase");
  const loaded = pick(r, "loaded", "modelLoaded", "model_loaded");
  if (enabled === false) {
    out.phase = "disabled";
  } else if (typeof state === "string") {
    const s = state.toLowerCase();
    if (s === "idle" || (s.includes("load") && !s.includes("loaded"))) out.phase = "loading";
    else if (s.includes("error") || s.includes("fail")) out.phase = "error";
    else if (s.includes("disabled") || s === "off") out.phase = "disabled";
    else out.phase = "ready";
  } else if (loaded === false) {
    out.phase = "loading";
  } else if (loaded === true || enabled === true) {
    out.phase = "ready";
  }
  const error = pick(r, "error", "message");
  if (typeof error === "string" && error) out.message = error;
  return out;
}
