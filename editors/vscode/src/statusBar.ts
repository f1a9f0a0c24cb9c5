/** The status-bar item: shows `statusText` of the current state; clicking shows the status. */
import * as vscode from "vscode";
import { type StatusState, statusText } from "./status";

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: StatusState = { phase: "starting" };

  constructor() {
    this.item = vscode.window.createStatusBarItem("codegen.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "codegen";
    this.item.command = "codegen.showStatus";
    this.render();
    this.item.show();
  }

  get current(): StatusState {
    return { ...this.state };
  }

  update(change: Partial<StatusState>): void {
    this.state = { ...this.state, ...change };
    this.render();
  }

  private render(): void {
    const { text, tooltip } = statusText(this.state);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      this.state.phase === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
