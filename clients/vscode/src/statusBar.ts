/**
 * The status bar item: session spend and cache-hit rate from `flashpro/status`, a spinner while
 * requests are in flight, a warning (or error) background when paused or budget-limited.
 * Clicking it opens the spend report (or, when the server is not running, its log).
 */

import * as vscode from 'vscode';

import { Command } from './constants';
import { formatServerState, formatStatus, needsKey, parseStatus, type StatusView } from './status';

const BACKGROUNDS = {
  warning: new vscode.ThemeColor('statusBarItem.warningBackground'),
  error: new vscode.ThemeColor('statusBarItem.errorBackground'),
} as const;

/** The one flashpro status bar item of a window. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private lastStatus: StatusView | undefined;
  private lastCommand: string = Command.showReport;

  constructor() {
    this.item = vscode.window.createStatusBarItem('flashpro.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'flashpro';
    this.render(formatServerState('waiting'), Command.showReport);
    this.item.show();
  }

  /** A `flashpro/status` notification arrived. */
  showStatus(payload: unknown): void {
    const status = parseStatus(payload);
    this.lastStatus = formatStatus(status);
    this.lastCommand = needsKey(status) ? Command.setApiKey : Command.showReport;
    this.render(this.lastStatus, this.lastCommand);
  }

  /** The server is starting (`detail`: what the environment setup is doing). */
  showStarting(detail?: string): void {
    this.lastStatus = undefined;
    this.render(formatServerState('starting', detail), Command.showLog);
  }

  /** The server is running (its figures arrive with the first `flashpro/status`). */
  showReady(hasKey: boolean): void {
    if (this.lastStatus !== undefined) {
      this.render(this.lastStatus, this.lastCommand);
    } else if (hasKey) {
      this.render(formatServerState('ready'), Command.showReport);
    } else {
      this.render(formatServerState('no-key'), Command.setApiKey);
    }
  }

  /** The server is not running. */
  showStopped(detail?: string): void {
    this.lastStatus = undefined;
    this.render(formatServerState('stopped', detail), Command.showLog);
  }

  private render(view: StatusView, command: string): void {
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor = view.background === undefined ? undefined : BACKGROUNDS[view.background];
    this.item.command = command;
  }

  dispose(): void {
    this.item.dispose();
  }
}
