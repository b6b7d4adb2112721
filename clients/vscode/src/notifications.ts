/**
 * The extension's own notifications and prompts: server messages shown as the language client
 * would, the API-key prompt as a progress notification (the kind code can close), the setup
 * progress that opens only when there is something to report, and the quick-edit instruction.
 */

import * as vscode from 'vscode';
import { MessageType, type ShowMessageParams } from 'vscode-languageclient/node';

import type { PromptHandle } from './keyPrompt';

/** A server message as the language client would show it. */
export function showServerMessage(params: ShowMessageParams): void {
  const show =
    params.type === MessageType.Error
      ? vscode.window.showErrorMessage
      : params.type === MessageType.Warning
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  void show(params.message);
}

/** The key prompt as a progress notification: the one kind of notification code can close. */
export function showKeyPrompt(text: string, dismissed: () => void): PromptHandle {
  let close: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'flashpro', cancellable: true },
    (progress, token) => {
      progress.report({ message: text });
      token.onCancellationRequested(() => {
        dismissed();
        close();
      });
      return closed;
    },
  );
  return { close };
}

/**
 * A progress notification opened by the first `report` only (reusing an environment reports
 * nothing, so shows nothing); `done` closes it.
 */
export function lazyProgress(title: string): { report: (message: string) => void; done: () => void } {
  let report: ((message: string) => void) | undefined;
  let finish: () => void = () => undefined;
  let finished = false;
  return {
    report: (message) => {
      if (finished) {
        return;
      }
      if (report === undefined) {
        const ended = new Promise<void>((resolve) => {
          finish = resolve;
        });
        let latest = message;
        report = (next) => {
          latest = next;
        };
        void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, (progress) => {
          progress.report({ message: latest });
          report = (next) => progress.report({ message: next });
          return ended;
        });
        return;
      }
      report(message);
    },
    done: () => {
      finished = true;
      finish();
    },
  };
}

/** Asks for a quick-edit instruction; undefined when the user cancels. */
export async function askInstruction(): Promise<string | undefined> {
  const value = await vscode.window.showInputBox({
    title: 'flashpro: Quick edit',
    prompt: 'How should the selection change?',
    placeHolder: 'e.g. add type hints and a docstring',
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() === '' ? 'Say what to change.' : undefined),
  });
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
