/**
 * The one job of this module: own the `codegen-lsp` process and its LanguageClient
 * (start, stop, restart, send settings, run server commands). Inline completions
 * are LSP 3.18 `textDocument/inlineCompletion`; the server debounces them.
 *
 * They come from the client library's own provider, unless VS Code lets this extension
 * use the `inlineCompletionsAdditions` API proposal: then a provider of this module asks
 * the server (the library's one answers nothing) and reports what VS Code tells it about
 * each item (shown, partly accepted, dismissed; see inlineEvents.ts). Accepts are the
 * item's command either way, and every item of an answer is returned (Alt+] cycles).
 */
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  InlineCompletionRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { InlineEvents, type Tracked } from "./inlineEvents";
import { serverCommand, serverOptions, type Settings } from "./settings";

export const LANGUAGES = ["python", "javascript", "typescript", "go", "rust"];
const SELECTOR = LANGUAGES.flatMap((language) => [
  { scheme: "file", language },
  { scheme: "untitled", language },
]);

export interface ServerEvents {
  /** Round-trip time of an answered inline-completion request. */
  onLatency(ms: number): void;
  /** The process started (true) or stopped (false). */
  onRunning(running: boolean): void;
}

export class CodegenServer {
  private client: LanguageClient | undefined;
  private settings: Settings | undefined;
  /** The provider that reports inline-completion events, when VS Code allows it. */
  private eventsProvider: vscode.Disposable | undefined;

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
      documentSelector: SELECTOR,
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
          // The events provider asks the server instead (and measures the latency).
          if (this.eventsProvider) return null;
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
    this.eventsProvider = this.registerEventsProvider(client);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.eventsProvider?.dispose();
    this.eventsProvider = undefined;
    if (client) await client.dispose(5000);
  }

  /**
   * Registers the inline-completion provider with the event hooks of the
   * `inlineCompletionsAdditions` API proposal; undefined when VS Code refuses it (the
   * proposal is not enabled for this extension, as in a released VS Code by default).
   */
  private registerEventsProvider(client: LanguageClient): vscode.Disposable | undefined {
    const events = new InlineEvents<vscode.InlineCompletionItem>((method, params) => {
      void client.sendNotification(method, params).catch((err) => this.log.warn(`${method}: ${String(err)}`));
    });
    const provider: vscode.InlineCompletionItemProvider = {
      provideInlineCompletionItems: async (document, position, context, token) => {
        const uri = document.uri.toString();
        // Asked again after a partial accept: the rest of the same suggestion (same id).
        const partly = events.continuation(uri, (origin) =>
          origin.range?.start.isBeforeOrEqual(position)
            ? document.getText(new vscode.Range(origin.range.start, position))
            : undefined,
        );
        if (partly) return new vscode.InlineCompletionList([restOf(partly, document, position, events)]);
        const started = Date.now();
        const params = client.code2ProtocolConverter.asInlineCompletionParams(document, position, context);
        let result;
        try {
          result = await client.sendRequest(InlineCompletionRequest.type, params, token);
        } catch (err) {
          return client.handleFailedRequest(InlineCompletionRequest.type, token, err, null);
        }
        if (token.isCancellationRequested) return null;
        this.events.onLatency(Date.now() - started);
        const items = (Array.isArray(result) ? result : result?.items ?? []).map((sent) => {
          const item = client.protocol2CodeConverter.asInlineCompletionItem(sent);
          events.remember(item, sent, uri);
          return item;
        });
        return new vscode.InlineCompletionList(items);
      },
      handleDidShowCompletionItem: (item) => events.shown(item),
      handleDidPartiallyAcceptCompletionItem: (item, lengthOrInfo) => events.partiallyAccepted(item, lengthOrInfo),
      handleEndOfLifetime: (item, reason) => events.ended(item, reason.kind),
    };
    try {
      const registered = vscode.languages.registerInlineCompletionItemProvider(SELECTOR, provider);
      this.log.info("inline completions report shown, partly accepted and dismissed suggestions");
      return registered;
    } catch (err) {
      this.log.info(
        "VS Code does not let this extension use the inlineCompletionsAdditions API proposal: " +
          `only accepts are reported to the acceptance log (${String(err).split("\n")[0]})`,
      );
      return undefined;
    }
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

  /** Sends a request the client library does not know (such as next edits); rejects when cancelled. */
  async request(method: string, params: object, token?: vscode.CancellationToken): Promise<unknown> {
    if (!this.client || !this.running) {
      throw new Error("the codegen server is not running (see `codegen: Show Log`)");
    }
    return this.client.sendRequest(method, params, token);
  }

  /** Sends a notification (such as an acceptance event); failures are logged. */
  notify(method: string, params: object): void {
    if (!this.client || !this.running) return;
    this.client.sendNotification(method, params).catch((err) => this.log.warn(`${method}: ${String(err)}`));
  }

  /** `capabilities.experimental` of the running server's `initialize` answer. */
  get experimentalCapabilities(): unknown {
    return this.client?.initializeResult?.capabilities.experimental;
  }

  /** The protocol converter, for turning server ranges and edits into VS Code ones. */
  get converter() {
    return this.client?.protocol2CodeConverter;
  }
}

/**
 * The rest of a partly accepted suggestion as a new item for the same suggestion: its
 * insertText whole, from where it started to the cursor plus what its range covered.
 */
function restOf(
  partly: Tracked<vscode.InlineCompletionItem>,
  document: vscode.TextDocument,
  position: vscode.Position,
  events: InlineEvents<vscode.InlineCompletionItem>,
): vscode.InlineCompletionItem {
  const { origin } = partly;
  const range = origin.range ?? new vscode.Range(position, position);
  const cover = range.isSingleLine ? range.end.character - range.start.character : 0;
  const end = document.validatePosition(position.translate(0, cover));
  const rest = new vscode.InlineCompletionItem(origin.insertText, new vscode.Range(range.start, end), origin.command);
  events.continueWith(rest, partly);
  return rest;
}
