/**
 * Next-edit suggestions in the editor, as decorations: after a pause in typing or moving
 * the cursor (`codegen.nextEdit.debounceMs`), or on demand (**Suggest Next Edit**), asks
 * the server for the next edit near the cursor and shows the first one wherever it is:
 * the text it replaces struck through, the new text after it, a hint at the end of its
 * line and a mark in the overview ruler. Tab (`codegen.nextEdit.accept`, while the
 * context key `codegen.nextEditVisible` is set) jumps to it, then applies it, reports the
 * accept and asks for the next one; Escape (`codegen.nextEdit.reject`) dismisses it.
 *
 * Decorations rather than VS Code's own inline edits (`InlineCompletionItem.isInlineEdit`):
 * that is an API proposal, and VS Code asks an inline-completion provider at every
 * keystroke, which would queue a rewrite of the region before each completion on the
 * server's one model worker. Here the request waits for a pause, and a newer one cancels
 * the older (`$/cancelRequest` stops the model). The event logic is in nextEdit.ts.
 */
import * as vscode from "vscode";
import {
  DEFAULT_CAPABILITY,
  firstUsable,
  hintText,
  isAt,
  NextEdits,
  previewText,
  readCapability,
  type ServerInlineEdit,
} from "./nextEdit";
import type { CodegenServer } from "./server";
import type { NextEditSettings } from "./settings";

export const CONTEXT_KEY = "codegen.nextEditVisible";
export const COMMANDS = {
  accept: "codegen.nextEdit.accept",
  reject: "codegen.nextEdit.reject",
  suggest: "codegen.nextEdit.suggest",
} as const;

/** Decoration options that put `contentText` after the decorated range. */
const after = (contentText: string): vscode.DecorationInstanceRenderOptions => ({ after: { contentText } });

export class NextEditController implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly edits: NextEdits;
  private readonly removed = vscode.window.createTextEditorDecorationType({
    textDecoration: "line-through",
    backgroundColor: new vscode.ThemeColor("diffEditor.removedTextBackground"),
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.modifiedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Center,
  });
  private readonly inserted = vscode.window.createTextEditorDecorationType({
    after: {
      backgroundColor: new vscode.ThemeColor("diffEditor.insertedTextBackground"),
      color: new vscode.ThemeColor("editor.foreground"),
    },
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.modifiedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Center,
  });
  private readonly hint = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), fontStyle: "italic", margin: "0 0 0 2em" },
  });
  private editor: vscode.TextEditor | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: vscode.CancellationTokenSource | undefined;
  /** The document version the request in flight was made for. */
  private inFlightVersion = -1;
  private visible = false;

  constructor(
    private readonly server: CodegenServer,
    private readonly log: vscode.LogOutputChannel,
    private settings: NextEditSettings,
    private readonly languages: readonly string[],
  ) {
    const capability = () => readCapability(this.server.experimentalCapabilities) ?? DEFAULT_CAPABILITY;
    this.edits = new NextEdits(
      (method, params) => this.server.notify(method, params),
      (command, args) => {
        this.server.execute(command, args).catch((err) => this.log.warn(`${command}: ${String(err)}`));
      },
      capability,
    );
    this.disposables.push(
      this.removed,
      this.inserted,
      this.hint,
      vscode.commands.registerCommand(COMMANDS.accept, () => this.accept()),
      vscode.commands.registerCommand(COMMANDS.reject, () => this.reject()),
      vscode.commands.registerCommand(COMMANDS.suggest, () => this.suggestNow()),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e.textEditor)),
      vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e.document)),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.onActiveEditor(editor)),
    );
  }

  /** New settings: with next edits off, the one on screen goes (no event) and none is asked. */
  update(settings: NextEditSettings): void {
    this.settings = settings;
    if (!settings.enabled) this.clear();
  }

  dispose(): void {
    this.clear();
    for (const d of this.disposables) d.dispose();
  }

  private applies(editor: vscode.TextEditor | undefined): editor is vscode.TextEditor {
    return !!editor && editor === vscode.window.activeTextEditor && this.languages.includes(editor.document.languageId);
  }

  private onSelection(editor: vscode.TextEditor): void {
    if (!this.applies(editor)) return;
    const edit = this.edits.edit;
    if (edit && editor === this.editor && edit.textDocument.version === editor.document.version) {
      this.render(editor, edit); // the hint follows the cursor
      return;
    }
    this.schedule(editor);
  }

  /** Another editor: the suggestion goes, unless it is the same document's (a new view of it). */
  private onActiveEditor(editor: vscode.TextEditor | undefined): void {
    const edit = this.edits.edit;
    const shownIn = this.editor;
    const sameDocument = !!editor && !!shownIn && editor.document === shownIn.document;
    if (editor && edit && shownIn && sameDocument && edit.textDocument.version === editor.document.version) {
      if (shownIn !== editor) this.undraw(shownIn);
      this.editor = editor;
      this.render(editor, edit);
      return;
    }
    this.clear();
  }

  private onChange(document: vscode.TextDocument): void {
    if (document !== vscode.window.activeTextEditor?.document) return;
    if (this.edits.edit) {
      // Typing past a suggestion ignores it (no event); the pause after it asks again.
      this.clear();
    } else if (this.inFlight && this.inFlightVersion !== document.version) {
      this.inFlight.cancel(); // its answer would be for an older version: stop the model
      this.edits.supersede();
    }
  }

  private schedule(editor: vscode.TextEditor): void {
    if (this.timer) clearTimeout(this.timer);
    if (!this.settings.enabled || !this.server.running) return;
    const position = editor.selection.active;
    const at = { line: position.line, character: position.character };
    if (!this.edits.shouldAsk(editor.document.uri.toString(), editor.document.version, at)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = { line: editor.selection.active.line, character: editor.selection.active.character };
      if (this.applies(editor) && this.edits.shouldAsk(editor.document.uri.toString(), editor.document.version, now)) {
        void this.request(editor);
      }
    }, this.settings.debounceMs);
  }

  private suggestNow(): void {
    const editor = vscode.window.activeTextEditor;
    if (!this.applies(editor)) {
      void vscode.window.showInformationMessage("codegen: open a file of a supported language to get next edits.");
      return;
    }
    this.clear();
    void this.request(editor);
  }

  /** Asks for the next edit at the cursor of `editor`, superseding any earlier request. */
  private async request(editor: vscode.TextEditor): Promise<void> {
    const capability = readCapability(this.server.experimentalCapabilities);
    if (!capability) return; // an older server: no next edits
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.cancel();
    const source = new vscode.CancellationTokenSource();
    const document = editor.document;
    this.inFlight = source;
    this.inFlightVersion = document.version;
    const uri = document.uri.toString();
    const version = document.version;
    const position = { line: editor.selection.active.line, character: editor.selection.active.character };
    const ticket = this.edits.begin(uri, version, position);
    let result: unknown;
    try {
      result = await this.server.request(capability.method, { textDocument: { uri, version }, position }, source.token);
    } catch (err) {
      if (!source.token.isCancellationRequested) this.log.warn(`${capability.method}: ${String(err)}`);
      return;
    } finally {
      if (this.inFlight === source) this.inFlight = undefined;
      source.dispose();
    }
    // Superseded, or the document changed while the server was thinking.
    if (!this.edits.current(ticket) || !this.applies(editor) || document.version !== version) return;
    const edit = firstUsable(result, uri, version);
    if (!edit) return;
    this.editor = editor;
    this.edits.show(edit);
    this.render(editor, edit);
  }

  private render(editor: vscode.TextEditor, edit: ServerInlineEdit): void {
    const range = this.rangeOf(edit, editor.document);
    editor.setDecorations(this.removed, range.isEmpty ? [] : [range]);
    editor.setDecorations(
      this.inserted,
      edit.text ? [{ range: new vscode.Range(range.end, range.end), renderOptions: after(previewText(edit)) }] : [],
    );
    const lineEnd = editor.document.lineAt(range.end.line).range.end;
    const hint = hintText(edit, editor.selection.active.line);
    editor.setDecorations(this.hint, [{ range: new vscode.Range(lineEnd, lineEnd), renderOptions: after(hint) }]);
    this.setVisible(true);
  }

  private rangeOf(edit: ServerInlineEdit, document: vscode.TextDocument): vscode.Range {
    const { start, end } = edit.range;
    return document.validateRange(new vscode.Range(start.line, start.character, end.line, end.character));
  }

  /** Tab: jumps to the suggestion, or with the cursor at it applies it and asks for the next. */
  private async accept(): Promise<void> {
    const editor = this.editor;
    const edit = this.edits.edit;
    const stale = !editor || !edit || editor !== vscode.window.activeTextEditor;
    if (stale || edit.textDocument.version !== editor.document.version) {
      this.clear();
      await vscode.commands.executeCommand("tab"); // what Tab does without a suggestion
      return;
    }
    const range = this.rangeOf(edit, editor.document);
    if (!isAt(edit, editor.selection.active.line)) {
      editor.selection = new vscode.Selection(range.start, range.start);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return; // the selection change renders the hint for the cursor at the edit
    }
    this.clearDecorations();
    this.edits.accepted();
    const applied = await editor.edit((builder) => builder.replace(range, edit.text));
    if (!applied) return;
    const lines = edit.text.split(/\r?\n/);
    const last = lines[lines.length - 1];
    const column = (lines.length === 1 ? range.start.character : 0) + last.length;
    const end = new vscode.Position(range.start.line + lines.length - 1, column);
    editor.selection = new vscode.Selection(end, end);
    void this.request(editor);
  }

  /** Escape: hides the suggestion, reported dismissed. */
  private reject(): void {
    this.inFlight?.cancel();
    this.edits.supersede();
    this.clearDecorations();
    this.edits.rejected();
  }

  /** Hides the suggestion with no event and drops the answers on their way. */
  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.cancel();
    this.edits.supersede();
    this.edits.forgetAsked();
    this.clearDecorations();
    this.edits.ignored();
  }

  private undraw(editor: vscode.TextEditor): void {
    editor.setDecorations(this.removed, []);
    editor.setDecorations(this.inserted, []);
    editor.setDecorations(this.hint, []);
  }

  private clearDecorations(): void {
    for (const editor of vscode.window.visibleTextEditors) this.undraw(editor);
    this.editor = undefined;
    this.setVisible(false);
  }

  private setVisible(visible: boolean): void {
    if (this.visible === visible) return;
    this.visible = visible;
    void vscode.commands.executeCommand("setContext", CONTEXT_KEY, visible);
  }
}
