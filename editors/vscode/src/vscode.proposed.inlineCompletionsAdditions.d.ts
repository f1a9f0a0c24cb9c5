/**
 * The part of VS Code's `inlineCompletionsAdditions` API proposal that this extension
 * uses (src/vscode-dts/vscode.proposed.inlineCompletionsAdditions.d.ts in the VS Code
 * repository). Proposed, not released: VS Code calls these hooks only for an extension
 * that lists the proposal in package.json `enabledApiProposals` *and* runs in extension
 * development mode or with `--enable-proposed-api codegen.codegen`; otherwise
 * registering a provider that has them throws (see server.ts).
 */
import "vscode";

declare module "vscode" {
  export interface InlineCompletionItemProvider {
    /** @param updatedInsertText the insert text after brackets were fixed */
    handleDidShowCompletionItem?(completionItem: InlineCompletionItem, updatedInsertText: string): void;

    /**
     * Called twice for each partial accept: with the accepted length (deprecated form)
     * and with `{kind, acceptedLength}`.
     */
    handleDidPartiallyAcceptCompletionItem?(
      completionItem: InlineCompletionItem,
      acceptedLengthOrInfo: number | { kind: number; acceptedLength: number },
    ): void;

    /** `reason.kind`: 0 accepted, 1 rejected (dismissed), 2 ignored. */
    handleEndOfLifetime?(completionItem: InlineCompletionItem, reason: { kind: number }): void;
  }
}
