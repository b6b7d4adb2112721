/**
 * The spend report webview: asks the server for `flashpro.report` and shows the page that
 * report.ts renders. The page has no script; its period and scope links are command URIs back to
 * `flashpro.showReport`.
 */

import { randomBytes } from 'node:crypto';

import * as vscode from 'vscode';

import { Command } from './constants';
import { parseReport, renderReportHtml, type ReportLink } from './report';

/** Argument of `flashpro.showReport` (all optional). */
export interface ReportRequest {
  /** `24h`, `7d`, `30d`... as the server's `--since`; absent: all time. */
  since?: string;
  /** `workspace` (default when a folder is open) or `all`. */
  scope?: 'workspace' | 'all';
}

const PERIODS: readonly { since: string | undefined; label: string }[] = [
  { since: '24h', label: 'last 24 hours' },
  { since: '7d', label: 'last 7 days' },
  { since: '30d', label: 'last 30 days' },
  { since: undefined, label: 'all time' },
];

function commandUri(request: ReportRequest): string {
  return `command:${Command.showReport}?${encodeURIComponent(JSON.stringify([request]))}`;
}

/** Period and scope links for the page. */
function reportLinks(request: ReportRequest, hasWorkspace: boolean): ReportLink[] {
  const scope = request.scope ?? (hasWorkspace ? 'workspace' : 'all');
  const links: ReportLink[] = PERIODS.map((period) => ({
    label: period.label,
    href: commandUri({ since: period.since, scope }),
    current: period.since === request.since,
  }));
  if (hasWorkspace) {
    links.push(
      { label: 'this workspace', href: commandUri({ since: request.since, scope: 'workspace' }), current: scope === 'workspace' },
      { label: 'all workspaces', href: commandUri({ since: request.since, scope: 'all' }), current: scope === 'all' },
    );
  }
  return links;
}

/** The report webview of a window (one panel, reused). */
export class ReportPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  /** Renders `raw` (the server's report) for `request` and reveals the panel. */
  show(raw: unknown, request: ReportRequest): void {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const scope = request.scope ?? (folders.length > 0 ? 'workspace' : 'all');
    const period = PERIODS.find((p) => p.since === request.since)?.label ?? `since ${request.since}`;
    if (this.panel === undefined) {
      this.panel = vscode.window.createWebviewPanel(
        'flashpro.report',
        'flashpro: Spend Report',
        { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
        { enableScripts: false, enableCommandUris: [Command.showReport], localResourceRoots: [] },
      );
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
    }
    this.panel.webview.html = renderReportHtml(parseReport(raw), {
      nonce: randomBytes(16).toString('base64'),
      roots: folders.map((folder) => folder.uri.toString()),
      period: `${period}, ${scope === 'workspace' ? 'this workspace' : 'all workspaces'}`,
      links: reportLinks({ ...request, scope }, folders.length > 0),
    });
    this.panel.reveal(undefined, false);
  }

  /** The server's `flashpro.report` argument for `request`. */
  static serverArgument(request: ReportRequest): { since?: string; workspace?: string } {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const scope = request.scope ?? (folder !== undefined ? 'workspace' : 'all');
    return {
      ...(request.since !== undefined ? { since: request.since } : {}),
      ...(scope === 'workspace' && folder !== undefined ? { workspace: folder.uri.fsPath } : {}),
    };
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
