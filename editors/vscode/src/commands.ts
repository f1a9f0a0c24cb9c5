/**
 * The user-facing commands. Each is a little UI around one server command
 * (`workspace/executeCommand`) or one code action; the server does the work.
 */
import * as vscode from "vscode";
import { readExplanation } from "./explain";
import type { CodegenServer } from "./server";
import { parseServerStatus } from "./status";
import type { StatusBar } from "./statusBar";

export const SERVER_COMMANDS = {
  status: "codegen.status",
  toggle: "codegen.toggle",
  selectAdapter: "codegen.selectAdapter",
  generateDocstrings: "codegen.generateDocstrings",
  explainTraceback: "codegen.explainTraceback",
} as const;

export interface CommandContext {
  server: CodegenServer;
  statusBar: StatusBar;
  log: vscode.LogOutputChannel;
  restart(): Promise<void>;
}

/** Asks the server for its status and shows it in the status bar; returns the raw answer. */
export async function refreshStatus(ctx: CommandContext): Promise<unknown> {
  const result = await ctx.server.execute(SERVER_COMMANDS.status);
  ctx.statusBar.update(parseServerStatus(result));
  return result;
}

async function generateDocstringAtCursor(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return;
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
    "vscode.executeCodeActionProvider",
    editor.document.uri,
    editor.selection,
    vscode.CodeActionKind.RefactorRewrite.value,
    5, // resolve the edits: the server writes the docstring only when asked to resolve
  );
  const action = actions?.find((a) => /docstring/i.test(a.title));
  if (!action) {
    void vscode.window.showInformationMessage("codegen: put the cursor inside a function or class without a docstring.");
    return;
  }
  if (action.edit) await vscode.workspace.applyEdit(action.edit);
  if (action.command) {
    await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []));
  }
}

async function generateDocstringsInFile(ctx: CommandContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return;
  // The server answers with a workspace/applyEdit request, which the client applies.
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "codegen: writing docstrings…" },
    () => ctx.server.execute(SERVER_COMMANDS.generateDocstrings, [editor.document.uri.toString()]),
  );
}

async function explainTraceback(ctx: CommandContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  let traceback = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : "";
  if (!traceback) traceback = (await vscode.env.clipboard.readText()).trim();
  if (!/Traceback|Error|Exception|\.py:\d+/.test(traceback)) {
    traceback =
      (await vscode.window.showInputBox({
        prompt: "Paste a traceback (or select one in an editor, or copy it, before running this command)",
        value: traceback,
      })) ?? "";
  }
  if (!traceback) return;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "codegen: reading the traceback…" },
    () => ctx.server.execute(SERVER_COMMANDS.explainTraceback, [traceback]),
  );
  const explanation = readExplanation(result);
  if (explanation.error) throw new Error(explanation.error);
  if (!explanation.frames.length) {
    void vscode.window.showInformationMessage(
      `codegen: ${explanation.exception || "exception"}: no frame of this traceback is a file of the workspace.`,
    );
    return;
  }
  // The server marked the frames with hints (and quick fixes); offer to jump to one.
  const pick = await vscode.window.showQuickPick(explanation.frames, {
    title: explanation.exception,
    placeHolder: "Go to a frame (its quick fix is on the lightbulb)",
  });
  if (!pick) return;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(pick.uri));
  const position = new vscode.Position(pick.line, 0);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(position, position) });
}

/** The LoRA adapters a model server offers (`servedAdapters` of `codegen.status`). */
export function servedAdapters(status: unknown): string[] {
  const served = (status as { servedAdapters?: unknown } | null)?.servedAdapters;
  return Array.isArray(served) ? served.filter((a): a is string => typeof a === "string") : [];
}

async function selectAdapter(ctx: CommandContext): Promise<void> {
  // On a model server the adapters are the ones it serves; in process, a folder.
  const served = servedAdapters(await ctx.server.execute(SERVER_COMMANDS.status));
  const choices = served.length
    ? served.map((name) => ({ label: `$(server) ${name}`, value: `served:${name}` }))
    : [{ label: "$(folder) Choose an adapter folder…", value: "pick" }];
  const choice = await vscode.window.showQuickPick(
    [...choices, { label: "$(circle-slash) No adapter (base model)", value: "none" }],
    { placeHolder: "LoRA adapter for this session (codegen.adapter sets the default)" },
  );
  if (!choice) return;
  let adapter: string | null = null;
  if (choice.value.startsWith("served:")) {
    adapter = choice.value.slice("served:".length);
  } else if (choice.value === "pick") {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: "Use adapter",
    });
    if (!picked?.length) return;
    adapter = picked[0].fsPath;
  }
  await ctx.server.execute(SERVER_COMMANDS.selectAdapter, [adapter]);
  ctx.statusBar.update({ adapter });
  await refreshStatus(ctx);
}

async function toggle(ctx: CommandContext): Promise<void> {
  await ctx.server.execute(SERVER_COMMANDS.toggle);
  const update = parseServerStatus(await refreshStatus(ctx));
  void vscode.window.showInformationMessage(
    `codegen: inline completions ${update.phase === "disabled" ? "off" : "on"}`,
  );
}

async function showStatus(ctx: CommandContext): Promise<void> {
  let details: string;
  try {
    details = JSON.stringify(await refreshStatus(ctx));
  } catch (err) {
    details = String(err);
  }
  const pick = await vscode.window.showInformationMessage(`codegen: ${details}`, "Show Log", "Restart Server");
  if (pick === "Show Log") ctx.log.show();
  if (pick === "Restart Server") await ctx.restart();
}

/** Registers every command; the disposables are the caller's to keep. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const guard = (name: string, run: () => Promise<void>) => async () => {
    try {
      await run();
    } catch (err) {
      ctx.log.error(`${name}: ${String(err)}`);
      void vscode.window.showErrorMessage(`codegen: ${name} failed: ${err instanceof Error ? err.message : err}`);
    }
  };
  const table: Record<string, () => Promise<void>> = {
    "codegen.insertDocstring": generateDocstringAtCursor,
    "codegen.insertDocstrings": () => generateDocstringsInFile(ctx),
    "codegen.explainTracebackFromSelection": () => explainTraceback(ctx),
    "codegen.chooseAdapter": () => selectAdapter(ctx),
    "codegen.toggleCompletions": () => toggle(ctx),
    "codegen.showStatus": () => showStatus(ctx),
    "codegen.showLog": async () => ctx.log.show(),
    "codegen.restartServer": () => ctx.restart(),
  };
  return Object.entries(table).map(([id, run]) => vscode.commands.registerCommand(id, guard(id, run)));
}
