/**
 * Reads the server's `codegen.explainTraceback` answer: the exception and the
 * traceback's frames that are files of the workspace (the server also marks them
 * with hint diagnostics, whose quick fixes propose edits). Pure.
 */

export interface Frame {
  uri: string;
  /** 0-based line. */
  line: number;
  label: string;
  detail: string;
}

export interface Explanation {
  error?: string;
  exception: string;
  frames: Frame[];
}

function baseName(uri: string): string {
  return decodeURIComponent(uri.replace(/\/+$/, "").split("/").pop() ?? uri);
}

/** The answer as frames to offer, innermost first; `error` when the server refused. */
export function readExplanation(result: unknown): Explanation {
  if (typeof result !== "object" || result === null) {
    return { error: "no answer from the server", exception: "", frames: [] };
  }
  const r = result as Record<string, unknown>;
  const exception = typeof r.exception === "string" ? r.exception : "";
  if (r.ok === false) {
    return { error: typeof r.error === "string" ? r.error : "the server could not read it", exception, frames: [] };
  }
  const raw = Array.isArray(r.frames) ? r.frames : [];
  const frames = raw
    .filter((f): f is Record<string, unknown> => typeof f === "object" && f !== null && typeof f.uri === "string")
    .map((f) => {
      const line = typeof f.line === "number" ? f.line : 0;
      const fn = typeof f.function === "string" && f.function ? ` in ${f.function}` : "";
      return {
        uri: f.uri as string,
        line,
        label: `${baseName(f.uri as string)}:${line + 1}${fn}`,
        detail: f.fix ? "a fix is proposed (quick fix on the line)" : "marked with a hint",
      };
    })
    .reverse();
  return { exception, frames };
}
