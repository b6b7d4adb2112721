/**
 * The extension's commands. Those that act on code call the server's `workspace/executeCommand`
 * commands (`flashpro.review`, `flashpro.design`, `flashpro.implement`, `flashpro.quickEdit`,
 * `flashpro.clearReview`, `flashpro.report`); the rest manage the key, the server and settings.
 */

import * as vscode from 'vscode';

import type { ServerConnection } from './client';
import { Command, SECRET_API_KEY, ServerCommand, Setting } from './constants';
import { implementArgument } from './implement';
import { askInstruction } from './notifications';
import { ReportPanel, type ReportRequest } from './reportPanel';

/** An LSP range (0-based lines, UTF-16 characters: VS Code's own positions). */
function lspRange(range: vscode.Range): object {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

/** The active editor, or undefined after telling the user one is needed. */
function activeEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage('flashpro: open a file first.');
  }
  return editor;
}

/**
 * Runs a server action command. The server reports its own progress (`$/progress`, with a cancel
 * button) and its outcome (a message); a failed request becomes an error message here.
 */
async function runAction(connection: ServerConnection, command: string, argument: object): Promise<unknown> {
  try {
    return await connection.execute(command, argument);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!/cancel/i.test(message)) {
      void vscode.window.showErrorMessage(`flashpro: ${message}`);
    }
    return undefined;
  }
}

/** Flips `flashpro.completion.automatic` where it is set (else in user settings). */
async function toggleAutomatic(): Promise<void> {
  const config = vscode.workspace.getConfiguration();
  const inspected = config.inspect<boolean>(Setting.completionAutomatic);
  const current = config.get<boolean>(Setting.completionAutomatic, true);
  const target =
    inspected?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update(Setting.completionAutomatic, !current, target);
  void vscode.window.showInformationMessage(
    `flashpro: automatic completions ${current ? 'off — invoke them with Alt+\\ (Trigger Inline Suggestion)' : 'on'}.`,
  );
}

/** Registers every command of the extension. */
export function registerCommands(
  context: vscode.ExtensionContext,
  connection: ServerConnection,
  report: ReportPanel,
): void {
  const register = (id: string, handler: (...args: never[]) => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  };

  register(Command.setApiKey, async () => {
    const key = await vscode.window.showInputBox({
      title: 'flashpro: DeepSeek API key',
      prompt: 'Stored in VS Code’s secret storage, never in settings.',
      placeHolder: 'sk-…',
      password: true,
      ignoreFocusOut: true,
      validateInput: (text) => (text.trim() === '' ? 'Paste the key, or press Escape.' : undefined),
    });
    if (key === undefined || key.trim() === '') {
      return;
    }
    await context.secrets.store(SECRET_API_KEY, key.trim());
    const restarted = await connection.useStoredKey();
    void vscode.window.showInformationMessage(
      `flashpro: API key saved${restarted ? '; the server was restarted' : ''}.`,
    );
  });

  register(Command.clearApiKey, async () => {
    await context.secrets.delete(SECRET_API_KEY);
    await connection.useStoredKey();
    void vscode.window.showInformationMessage('flashpro: API key removed from the secret storage.');
  });

  register(Command.restartServer, () => connection.restart());
  register(Command.showLog, () => connection.log.show(true));
  register(Command.toggleAutomatic, toggleAutomatic);

  register(Command.showReport, async (request?: ReportRequest) => {
    const wanted: ReportRequest = typeof request === 'object' && request !== null ? request : {};
    try {
      const result = await connection.execute(ServerCommand.report, ReportPanel.serverArgument(wanted));
      report.show(result, wanted);
    } catch (error) {
      void vscode.window.showErrorMessage(`flashpro: no report: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  register(Command.quickEditSelection, async () => {
    const editor = activeEditor();
    if (editor === undefined) {
      return;
    }
    // An empty selection is sent as it is: the server then takes the enclosing definition.
    const range = editor.selection;
    const instruction = await askInstruction();
    if (instruction === undefined) {
      return;
    }
    await runAction(connection, ServerCommand.quickEdit, {
      uri: editor.document.uri.toString(),
      range: lspRange(range),
      instruction,
    });
  });

  register(Command.reviewFile, async () => {
    const editor = activeEditor();
    if (editor === undefined) {
      return;
    }
    await runAction(connection, ServerCommand.review, {
      uri: editor.document.uri.toString(),
    });
  });

  register(Command.designSelection, async () => {
    const editor = activeEditor();
    if (editor === undefined) {
      return;
    }
    await runAction(connection, ServerCommand.design, {
      uri: editor.document.uri.toString(),
      range: lspRange(editor.selection), // empty: the server takes the paragraph at the cursor
    });
  });

  register(Command.implementSelection, async () => {
    const editor = activeEditor();
    if (editor === undefined) {
      return;
    }
    // The change comes back as one workspace edit that VS Code shows in its Refactor Preview.
    const { document, selection } = editor;
    const argument = implementArgument(document.uri.toString(), document.uri.fsPath, selection.start, selection.end);
    await runAction(connection, ServerCommand.implement, argument);
  });

  register(Command.clearReviews, async () => {
    await runAction(connection, ServerCommand.clearReview, {});
  });
}
