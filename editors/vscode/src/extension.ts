/**
 * Entry point: wires settings, the server, the status bar and the commands
 * together. Each of those lives in its own module; nothing else happens here.
 */
import * as vscode from "vscode";
import { refreshStatus, registerCommands, type CommandContext } from "./commands";
import { NextEditController } from "./nextEditView";
import { CodegenServer, LANGUAGES } from "./server";
import { parseServerStatus } from "./status";
import { needsRestart, readSettings, type Settings } from "./settings";
import { StatusBar } from "./statusBar";

let server: CodegenServer | undefined;

function currentSettings(): Settings {
  const config = vscode.workspace.getConfiguration("codegen");
  return readSettings((key) => config.get(key));
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("codegen", { log: true });
  const statusBar = new StatusBar();
  const running = new CodegenServer(log, {
    onLatency: (ms) => statusBar.update({ lastLatencyMs: ms }),
    onRunning: (up) => {
      if (!up && statusBar.current.phase !== "error") statusBar.update({ phase: "stopped" });
    },
  });
  server = running;
  let settings = currentSettings();

  const start = async (): Promise<void> => {
    statusBar.update({ phase: "starting", model: settings.model, adapter: settings.adapter || null });
    try {
      await running.restart(settings);
      statusBar.update({ phase: "loading" });
      await followLoading();
    } catch (err) {
      statusBar.update({ phase: "error", message: String(err) });
      log.error(`could not start the server: ${String(err)}`);
      void vscode.window
        .showErrorMessage(`codegen: the server did not start (${String(err)}). Check codegen.serverPath.`, "Show Log")
        .then((pick) => pick && log.show());
    }
  };
  // The server loads the model after `initialize` (with work-done progress); ask
  // for its status until it says the model is ready, so the status bar follows.
  const followLoading = async (): Promise<void> => {
    for (let attempt = 0; attempt < 600 && running.running; attempt++) {
      try {
        // A server that does not report a phase is ready once it answers.
        if (!parseServerStatus(await refreshStatus(ctx)).phase) statusBar.update({ phase: "ready" });
      } catch (err) {
        log.warn(`codegen.status: ${String(err)}`);
        statusBar.update({ phase: "ready" });
        return;
      }
      if (statusBar.current.phase !== "loading") return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  const ctx: CommandContext = { server: running, statusBar, log, restart: start };
  const nextEdits = new NextEditController(running, log, settings.nextEdit, LANGUAGES);

  context.subscriptions.push(
    log,
    statusBar,
    nextEdits,
    ...registerCommands(ctx),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration("codegen")) return;
      const next = currentSettings();
      const restart = needsRestart(settings, next);
      settings = next;
      nextEdits.update(next.nextEdit);
      if (restart) {
        log.info("settings changed: restarting the server");
        await start();
      } else {
        await running.updateSettings(next);
      }
    }),
  );
  void start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
