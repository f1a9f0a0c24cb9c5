/**
 * What VS Code reports about each inline suggestion, turned into the server's acceptance
 * events in the shapes of Copilot's language server:
 *
 * - shown: `textDocument/didShowCompletion` `{item}`;
 * - partly accepted: `textDocument/didPartiallyAcceptCompletion` `{item, acceptedLength}`
 *   (UTF-16 units of the item's insertText taken so far; the whole length is an accept);
 * - dismissed: `codegen/didRejectCompletion` `{id}`, for an item shown and not taken.
 *
 * `item` is the item as the server sent it. Accepts need nothing here: VS Code runs the
 * item's command (`codegen.acceptCompletion`), which the language client sends to the
 * server. Items without that command (the server's acceptance log is off) are not reported.
 *
 * Pure (no `vscode` import, so node's test runner runs it): server.ts feeds it from the
 * provider hooks of the `inlineCompletionsAdditions` API proposal.
 */

export const SHOWN = "textDocument/didShowCompletion";
export const PARTIAL = "textDocument/didPartiallyAcceptCompletion";
export const REJECTED = "codegen/didRejectCompletion";
export const ACCEPT_COMMAND = "codegen.acceptCompletion";
/** `InlineCompletionEndOfLifeReasonKind.Rejected`: the user dismissed the item. */
export const END_OF_LIFE_REJECTED = 1;
/** `InlineCompletionEndOfLifeReasonKind.Ignored`: replaced (by typing, or by the rest of it). */
export const END_OF_LIFE_IGNORED = 2;

/** An inline completion item in its LSP shape, as the server sent it. */
export interface ServerItem {
  insertText: string | { kind: string; value: string };
  filterText?: string;
  range?: unknown;
  command?: { title: string; command: string; arguments?: unknown[] };
}

/** The suggestion id a server item carries (its accept command's first argument). */
export function suggestionId(item: ServerItem): string | undefined {
  const command = item.command;
  if (!command || command.command !== ACCEPT_COMMAND) return undefined;
  const id = command.arguments?.[0];
  return typeof id === "string" ? id : undefined;
}

/**
 * The accepted length of a partial accept: VS Code passes it as a number (the older
 * signature) and as `{kind, acceptedLength}` (the newer one), both for the same accept.
 */
export function acceptedLength(lengthOrInfo: unknown): number | undefined {
  const value =
    typeof lengthOrInfo === "object" && lengthOrInfo !== null
      ? (lengthOrInfo as { acceptedLength?: unknown }).acceptedLength
      : lengthOrInfo;
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

export type Send = (method: string, params: object) => void;

/** A suggestion of the server, and what VS Code reported about it. */
export interface Tracked<Item> {
  server: ServerItem;
  id: string;
  uri: string;
  /** The first item made from it (its range is where the suggestion starts). */
  origin: Item;
  shown: boolean;
  /** UTF-16 units of its insertText accepted so far (line breaks counted as one). */
  accepted: number;
}

/** Text with "\r\n" line breaks as VS Code counts partial accepts: one unit each. */
const lf = (text: string): string => text.replace(/\r\n/g, "\n");

/**
 * Tracks the items of the provider's answers and sends their events. After a partial
 * accept VS Code asks the provider again; `continuation` then offers the rest of the
 * same suggestion, so that its later partial accepts and its accept keep its id.
 */
export class InlineEvents<Item extends object> {
  private readonly items = new WeakMap<Item, Tracked<Item>>();
  private partly: Tracked<Item> | undefined;

  constructor(private readonly send: Send) {}

  /** `item` (what the provider returns to VS Code) was made from the server's `server`. */
  remember(item: Item, server: ServerItem, uri: string): void {
    const id = suggestionId(server);
    if (id) this.items.set(item, { server, id, uri, origin: item, shown: false, accepted: 0 });
  }

  /**
   * The partly accepted suggestion whose rest the provider should answer in `uri`, where
   * `typed` is the document's text from the suggestion's start to the cursor: the
   * accepted part, unchanged. Anything else ends the continuation.
   */
  continuation(uri: string, typed: (from: Item) => string | undefined): Tracked<Item> | undefined {
    const partly = this.partly;
    this.partly = undefined;
    if (!partly || partly.uri !== uri || typeof partly.server.insertText !== "string") return undefined;
    const insert = lf(partly.server.insertText);
    const done = typed(partly.origin);
    if (done === undefined || lf(done) !== insert.slice(0, partly.accepted) || partly.accepted >= insert.length) {
      return undefined;
    }
    this.partly = partly;
    return partly;
  }

  /** `item` shows the rest of `tracked` (from `continuation`). */
  continueWith(item: Item, tracked: Tracked<Item>): void {
    this.items.set(item, tracked);
  }

  /** VS Code put `item` on screen (reported once per suggestion). */
  shown(item: Item): void {
    const tracked = this.items.get(item);
    if (!tracked || tracked.shown) return;
    tracked.shown = true;
    this.send(SHOWN, { item: tracked.server });
  }

  /** VS Code accepted part of `item`; each length is reported once, as it grows. */
  partiallyAccepted(item: Item, lengthOrInfo: unknown): void {
    const tracked = this.items.get(item);
    const length = acceptedLength(lengthOrInfo);
    if (!tracked || length === undefined || length <= tracked.accepted) return;
    tracked.accepted = length;
    this.partly = tracked;
    this.send(PARTIAL, { item: tracked.server, acceptedLength: length });
  }

  /** VS Code is done with `item` (`InlineCompletionEndOfLifeReasonKind`). */
  ended(item: Item, reasonKind: number): void {
    const tracked = this.items.get(item);
    if (!tracked) return;
    this.items.delete(item);
    // Accepted whole, or dismissed: nothing of it is left to continue.
    if (reasonKind !== END_OF_LIFE_IGNORED && this.partly === tracked) this.partly = undefined;
    if (reasonKind === END_OF_LIFE_REJECTED && tracked.shown && tracked.accepted === 0) {
      this.send(REJECTED, { id: tracked.id });
    }
  }
}
