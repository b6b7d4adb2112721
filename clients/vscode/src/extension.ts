/** Entry point: wires the status bar, the server connection, the report panel and commands. */

import * as vscode from 'vscode';

import { ServerConnection } from './client';
import { registerCommands } from './commands';
import { OUTPUT_CHANNEL, SECTION, Setting } from './constants';
import { ReportPanel } from './reportPanel';
import { documentSelector } from './settings';
import { StatusBar } from './statusBar';

let connection: ServerConnection | undefined;

/** True when `document` is one the server should see (`flashpro.enabledLanguages`). */
function wanted(document: vscode.TextDocument): boolean {
  const selector = documentSelector(vscode.workspace.getConfiguration().get<unknown>(Setting.enabledLanguages));
  return vscode.languages.match(selector, document) > 0;
}

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel(OUTPUT_CHANNEL, { log: true });
  const status = new StatusBar();
  const report = new ReportPanel();
  connection = new ServerConnection(context, log, status);
  context.subscriptions.push(log, status, report, connection);
  registerCommands(context, connection, report);

  // Start the server once a document of an enabled language is open (now or later).
  const server = connection;
  const startIfWanted = (document: vscode.TextDocument): void => {
    if (wanted(document)) {
      void server.start();
    }
  };
  vscode.workspace.textDocuments.forEach(startIfWanted);
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(startIfWanted),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.enabledLanguages`)) {
        vscode.workspace.textDocuments.forEach(startIfWanted);
      }
    }),
  );
}

export function deactivate(): Thenable<void> | undefined {
  return connection?.stop();
}
