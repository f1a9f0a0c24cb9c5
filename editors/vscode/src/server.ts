/**
 * The one job of this module: own the `codegen-lsp` process and its LanguageClient
 * (start, stop, restart, send settings, run server commands). Inline completions
 * are the client library's own feature (LSP 3.18 `textDocument/inlineCompletion`);
 * the server debounces them; the middleware below only measures their latency.
 */
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { serverCommand, serverOptions, type Settings } from "./settings";

export const LANGUAGES = ["python", "javascript", "typescript", "go", "rust"];

export interface ServerEvents {
  /** Round-trip time of an answered inline-completion request. */
  onLatency(ms: number): void;
  /** The process started (true) or stopped (false). */
  onRunning(running: boolean): void;
}

export class CodegenServer {
  private client: LanguageClient | undefined;
  private settings: Settings | undefined;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly events: ServerEvents,
  ) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Starts a server for `settings`; resolves once it answered `initialize`. */
  async start(settings: Settings): Promise<void> {
    this.settings = settings;
    const { command, args } = serverCommand(settings);
    this.log.info(`starting ${command} ${args.join(" ")}`);
    const run = { command, args, transport: TransportKind.stdio };
    const server: ServerOptions = { run, debug: run };
    const options: LanguageClientOptions = {
      documentSelector: LANGUAGES.flatMap((language) => [
        { scheme: "file", language },
        { scheme: "untitled", language },
      ]),
      initializationOptions: serverOptions(settings),
      outputChannel: this.log,
      traceOutputChannel: this.log,
      middleware: {
        // A server that pulls its settings gets the same shape as initializationOptions.
        workspace: {
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            return params.items.map((item, i) =>
              item.section === "codegen" && this.settings ? serverOptions(this.settings) : answers[i],
            );
          },
        },
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          const started = Date.now();
          const result = await next(document, position, context, token);
          if (!token.isCancellationRequested) this.events.onLatency(Date.now() - started);
          return result;
        },
      },
    };
    const client = new LanguageClient("codegen", "codegen", server, options);
    client.onDidChangeState((e) => this.events.onRunning(e.newState === State.Running));
    this.client = client;
    await client.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.dispose(5000);
  }

  async restart(settings: Settings): Promise<void> {
    await this.stop();
    await this.start(settings);
  }

  /** Applies settings that the running server can take without a restart. */
  async updateSettings(settings: Settings): Promise<void> {
    this.settings = settings;
    await this.client?.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { codegen: serverOptions(settings) },
    });
  }

  /** Runs a server command (`workspace/executeCommand`) and returns its result. */
  async execute(command: string, args: unknown[] = []): Promise<unknown> {
    if (!this.client || !this.running) {
      throw new Error("the codegen server is not running (see `codegen: Show Log`)");
    }
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  /** The protocol converter, for turning server ranges and edits into VS Code ones. */
  get converter() {
    return this.client?.protocol2CodeConverter;
  }
}
