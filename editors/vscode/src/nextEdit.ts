/**
 * Next-edit suggestions as data, in the shapes of Copilot's language server:
 *
 * - request `textDocument/copilotInlineEdit` `{textDocument: {uri, version}, position}`,
 *   answered `{edits: [{range, text, textDocument: {uri, version}, command}]}` (the
 *   nearest edit after the cursor first);
 * - shown: `textDocument/didShowInlineEdit` `{item}` (the edit as the server sent it);
 * - accepted: the edit's own command (`codegen.acceptInlineEdit [id]`);
 * - dismissed: `codegen.rejectInlineEdit [id]`.
 *
 * The method names come from the server's capability (`experimental.codegen.nextEdit`).
 * Pure (no `vscode` import, so node's test runner runs it): nextEditView.ts shows the
 * suggestion and feeds this module what the user does with it.
 */

export const METHOD = "textDocument/copilotInlineEdit";
export const SHOWN = "textDocument/didShowInlineEdit";
export const ACCEPT_COMMAND = "codegen.acceptInlineEdit";
export const REJECT_COMMAND = "codegen.rejectInlineEdit";

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

export interface LspCommand {
  title: string;
  command: string;
  arguments?: unknown[];
}

/** One edit of the server's answer. */
export interface ServerInlineEdit {
  range: LspRange;
  text: string;
  textDocument: { uri: string; version: number };
  command?: LspCommand;
}

/** What the server advertises in `capabilities.experimental.codegen.nextEdit`. */
export interface NextEditCapability {
  method: string;
  shown: string;
  reject: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;

const isPosition = (value: unknown): value is LspPosition =>
  isObject(value) && Number.isInteger(value.line) && Number.isInteger(value.character);

const isRange = (value: unknown): value is LspRange =>
  isObject(value) && isPosition(value.start) && isPosition(value.end);

/** The names codegen-lsp uses, for a capability that leaves one out. */
export const DEFAULT_CAPABILITY: NextEditCapability = { method: METHOD, shown: SHOWN, reject: REJECT_COMMAND };

/** The next-edit capability in `experimental` (the server's), or undefined when it offers none. */
export function readCapability(experimental: unknown): NextEditCapability | undefined {
  const codegen = isObject(experimental) ? experimental.codegen : undefined;
  const offered = isObject(codegen) ? codegen.nextEdit : undefined;
  if (!isObject(offered)) return undefined;
  const name = (value: unknown, fallback: string) => (typeof value === "string" && value ? value : fallback);
  return {
    method: name(offered.method, METHOD),
    shown: name(offered.shown, SHOWN),
    reject: name(offered.reject, REJECT_COMMAND),
  };
}

/**
 * The first edit of an answer that applies to the document as it is: `uri` at `version`
 * (the version the client last sent, which the server echoes). An answer for an older
 * version of the document, or for another one, gives undefined.
 */
export function firstUsable(result: unknown, uri: string, version: number): ServerInlineEdit | undefined {
  const edits = isObject(result) ? result.edits : undefined;
  const edit: unknown = Array.isArray(edits) ? edits[0] : undefined;
  if (!isObject(edit) || !isRange(edit.range) || typeof edit.text !== "string") return undefined;
  const doc = edit.textDocument;
  if (!isObject(doc) || doc.uri !== uri || doc.version !== version) return undefined;
  return edit as unknown as ServerInlineEdit;
}

/** The suggestion id of an edit (its accept command's first argument). */
export function editId(edit: ServerInlineEdit): string | undefined {
  const id = edit.command?.arguments?.[0];
  return typeof id === "string" ? id : undefined;
}

/** Whether the cursor on `line` is at the edit: on one of the lines it replaces. */
export function isAt(edit: ServerInlineEdit, line: number): boolean {
  return line >= edit.range.start.line && line <= edit.range.end.line;
}

/** The new text as one line of a decoration: line breaks shown as "↵". */
export function previewText(edit: ServerInlineEdit): string {
  return edit.text.replace(/\r?\n/g, "↵");
}

/** The hint after the edit's line: what the accept key does with the cursor on `line`. */
export function hintText(edit: ServerInlineEdit, line: number): string {
  return isAt(edit, line) ? "Tab: apply the next edit, Esc: dismiss" : "Tab: jump to the next edit";
}

export type Notify = (method: string, params: object) => void;
export type Execute = (command: string, args: unknown[]) => void;

/**
 * The requests for next edits and the suggestion on screen (one at a time, in the
 * active editor), and the events they make. A newer request supersedes an older one:
 * `begin` hands out tickets, and only the latest is `current`.
 */
export class NextEdits {
  private ticket = 0;
  private shownEdit: ServerInlineEdit | undefined;
  private reported: string | undefined;
  /** `[uri, version, line, character]` of the latest request, not asked twice in a row. */
  private asked: string | undefined;
  /** `uri@version` at the last dismissal: not asked again until the document changes. */
  private dismissedAt: string | undefined;

  constructor(
    private readonly notify: Notify,
    private readonly execute: Execute,
    private readonly capability: () => NextEditCapability,
  ) {}

  /** A new request at this document version and position; returns its ticket. */
  begin(uri: string, version: number, position: LspPosition): number {
    this.asked = JSON.stringify([uri, version, position.line, position.character]);
    return ++this.ticket;
  }

  /** Drops the answers of every request made so far (the document changed, or the editor). */
  supersede(): void {
    this.ticket++;
  }

  /** Forgets where the latest request was made, so that the next pause asks again there. */
  forgetAsked(): void {
    this.asked = undefined;
  }

  /** Whether `ticket` is the latest request's. */
  current(ticket: number): boolean {
    return ticket === this.ticket;
  }

  /** Whether a pause at this version and position should ask for a next edit. */
  shouldAsk(uri: string, version: number, position: LspPosition): boolean {
    if (this.dismissedAt === `${uri}@${version}`) return false;
    return this.asked !== JSON.stringify([uri, version, position.line, position.character]);
  }

  /** The suggestion on screen. */
  get edit(): ServerInlineEdit | undefined {
    return this.shownEdit;
  }

  /** `edit` is on screen: reported shown once per suggestion. */
  show(edit: ServerInlineEdit): void {
    this.shownEdit = edit;
    const id = editId(edit);
    if (id && this.reported !== id) {
      this.reported = id;
      this.notify(this.capability().shown, { item: edit });
    }
  }

  /** The user applied the suggestion: its command reports the accept; returns the edit. */
  accepted(): ServerInlineEdit | undefined {
    const edit = this.shownEdit;
    this.shownEdit = undefined;
    if (edit?.command) this.execute(edit.command.command, edit.command.arguments ?? []);
    return edit;
  }

  /** The user dismissed the suggestion: reported rejected; not asked again at this version. */
  rejected(): void {
    const edit = this.shownEdit;
    this.shownEdit = undefined;
    if (!edit) return;
    this.dismissedAt = `${edit.textDocument.uri}@${edit.textDocument.version}`;
    const id = editId(edit);
    if (id && this.reported === id) this.execute(this.capability().reject, [id]);
  }

  /** The suggestion is gone with no event (the user edited the document, or left it). */
  ignored(): void {
    this.shownEdit = undefined;
  }
}
