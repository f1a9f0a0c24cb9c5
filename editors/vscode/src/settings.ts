/**
 * The extension's settings as plain data, and what follows from them: the command
 * line that starts the server, the options sent to it, and whether a change needs a
 * restart. Pure: nothing here touches VS Code, so it is unit-tested with node's runner.
 */

export type Quantize = "none" | "8bit" | "4bit";
export type Device = "auto" | "cpu" | "cuda";

export interface CompletionSettings {
  enabled: boolean;
  maxNewTokens: number;
  maxLines: number;
  temperature: number;
  debounceMs: number;
  /** Suggestions per answer (the first, then sampled alternatives); Alt+] / Alt+[ cycle. */
  candidates: number;
}

/** The server's opt-in acceptance log (what happened to each suggestion; local JSONL). */
export interface AcceptanceLogSettings {
  enabled: boolean;
  /** "" = the server's default (~/.local/share/codegen/acceptance.jsonl). */
  path: string;
}

/** Next-edit suggestions (the extension asks for them; nothing is sent to the server). */
export interface NextEditSettings {
  enabled: boolean;
  /** Pause after typing or moving the cursor before asking. */
  debounceMs: number;
}

export interface Settings {
  serverPath: string;
  pythonPath: string;
  serverArgs: string[];
  model: string;
  /** On a model server (`model` is an http(s):// URL): the model to request; "" = its first. */
  servedModel: string;
  adapter: string;
  /** The fill-in-the-middle format; "" = detected from the tokenizer. */
  fimFormat: string;
  quantize: Quantize;
  device: Device;
  completion: CompletionSettings;
  acceptanceLog: AcceptanceLogSettings;
  nextEdit: NextEditSettings;
}

/** Reads one setting below `codegen.`; VS Code's `WorkspaceConfiguration.get` fits. */
export type SettingGetter = (key: string) => unknown;

export const DEFAULT_SETTINGS: Settings = {
  serverPath: "",
  pythonPath: "",
  serverArgs: [],
  model: "builtin:tiny",
  servedModel: "",
  adapter: "",
  fimFormat: "",
  quantize: "none",
  device: "auto",
  completion: { enabled: true, maxNewTokens: 96, maxLines: 12, temperature: 0, debounceMs: 60, candidates: 1 },
  acceptanceLog: { enabled: false, path: "" },
  nextEdit: { enabled: true, debounceMs: 300 },
};

/** Settings whose change means the model must be reloaded, i.e. the server restarted. */
export const RESTART_KEYS = [
  "serverPath",
  "pythonPath",
  "serverArgs",
  "model",
  "servedModel",
  "adapter",
  "fimFormat",
  "quantize",
  "device",
] as const;

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === "string" && (allowed as readonly string[]).includes(value)
    ? (value as T)
    : fallback;
}

function text(value: unknown, fallback: string): string {
  return typeof value === "string" ? value.trim() : fallback;
}

function num(value: unknown, fallback: number, min: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= min ? value : fallback;
}

/**
 * Reads every setting through `get`, replacing a missing or invalid value by its
 * default, so a typo in settings.json never stops the server from starting.
 */
export function readSettings(get: SettingGetter): Settings {
  const d = DEFAULT_SETTINGS;
  const args = get("serverArgs");
  return {
    serverPath: text(get("serverPath"), d.serverPath),
    pythonPath: text(get("pythonPath"), d.pythonPath),
    serverArgs: Array.isArray(args) ? args.filter((a): a is string => typeof a === "string") : [],
    model: text(get("model"), d.model) || d.model,
    servedModel: text(get("servedModel"), d.servedModel),
    adapter: text(get("adapter"), d.adapter),
    fimFormat: text(get("fimFormat"), d.fimFormat),
    quantize: oneOf(get("quantize"), ["none", "8bit", "4bit"], d.quantize),
    device: oneOf(get("device"), ["auto", "cpu", "cuda"], d.device),
    completion: {
      enabled: typeof get("completion.enabled") === "boolean"
        ? (get("completion.enabled") as boolean)
        : d.completion.enabled,
      maxNewTokens: Math.floor(num(get("completion.maxNewTokens"), d.completion.maxNewTokens, 1)),
      maxLines: Math.floor(num(get("completion.maxLines"), d.completion.maxLines, 1)),
      temperature: Math.min(num(get("completion.temperature"), d.completion.temperature, 0), 2),
      debounceMs: Math.floor(num(get("completion.debounceMs"), d.completion.debounceMs, 0)),
      candidates: Math.min(Math.floor(num(get("completion.candidates"), d.completion.candidates, 1)), 8),
    },
    acceptanceLog: {
      enabled: typeof get("acceptanceLog.enabled") === "boolean"
        ? (get("acceptanceLog.enabled") as boolean)
        : d.acceptanceLog.enabled,
      path: text(get("acceptanceLog.path"), d.acceptanceLog.path),
    },
    nextEdit: {
      enabled: typeof get("nextEdit.enabled") === "boolean"
        ? (get("nextEdit.enabled") as boolean)
        : d.nextEdit.enabled,
      debounceMs: Math.floor(num(get("nextEdit.debounceMs"), d.nextEdit.debounceMs, 0)),
    },
  };
}

export interface ServerCommand {
  command: string;
  args: string[];
}

/**
 * The process that serves LSP over stdio: `codegen.serverPath` if set, else
 * `python -m codegen.server.cli` with `codegen.pythonPath`, else `codegen-lsp` on PATH.
 */
export function serverCommand(s: Settings): ServerCommand {
  const tail = ["--stdio", ...s.serverArgs];
  if (s.serverPath) {
    return { command: s.serverPath, args: tail };
  }
  if (s.pythonPath) {
    return { command: s.pythonPath, args: ["-m", "codegen.server.cli", ...tail] };
  }
  return { command: "codegen-lsp", args: tail };
}

/**
 * The `codegen` section in the server's wire shape (camelCase, model options
 * grouped under `model`), sent as `initializationOptions` and with
 * `workspace/didChangeConfiguration`; an empty adapter is sent as null (none), and an
 * empty served model, FIM format or acceptance-log path is left out (the server's default).
 */
export function serverOptions(s: Settings): Record<string, unknown> {
  return {
    model: {
      model: s.model,
      adapter: s.adapter || null,
      quantize: s.quantize,
      device: s.device,
      ...(s.servedModel ? { servedModel: s.servedModel } : {}),
      ...(s.fimFormat ? { fimFormat: s.fimFormat } : {}),
    },
    completion: { ...s.completion },
    acceptanceLog: {
      enabled: s.acceptanceLog.enabled,
      ...(s.acceptanceLog.path ? { path: s.acceptanceLog.path } : {}),
    },
  };
}

/** True when going from `before` to `after` needs a new server process. */
export function needsRestart(before: Settings, after: Settings): boolean {
  return RESTART_KEYS.some(
    (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
}
