/**
 * Every client-visible string of the extension, declared once: command ids (ours and the
 * server's), the notification method, setting names, secret and channel names.
 *
 * Pure module (no `vscode` import) so the unit tests can use it.
 */

/** The settings section of every flashpro setting (`flashpro.*`). */
export const SECTION = 'flashpro';

/** Keys of the `flashpro` section that only the extension reads; never sent to the server. */
export const CLIENT_ONLY_KEYS = ['enabledLanguages', 'server', 'trace'] as const;

/** Client-only settings, in full. */
export const Setting = {
  enabledLanguages: 'flashpro.enabledLanguages',
  serverCommand: 'flashpro.server.command',
  completionAutomatic: 'flashpro.completion.automatic',
} as const;

/** Where the API key lives in `context.secrets` (never in settings.json). */
export const SECRET_API_KEY = 'flashpro.apiKey';

/** The server → client status notification (see the server's `app.py` `status()`). */
export const STATUS_NOTIFICATION = 'flashpro/status';

/**
 * The server's `workspace/executeCommand` commands. vscode-languageclient registers each of
 * them as a VS Code command itself, so the extension's own commands must use other names.
 */
export const ServerCommand = {
  accept: 'flashpro.accept',
  report: 'flashpro.report',
  review: 'flashpro.review',
  design: 'flashpro.design',
  implement: 'flashpro.implement',
  quickEdit: 'flashpro.quickEdit',
  explain: 'flashpro.explain',
  writeTests: 'flashpro.writeTests',
  clearReview: 'flashpro.clearReview',
} as const;

/** The extension's own commands (contributed in package.json). */
export const Command = {
  setApiKey: 'flashpro.setApiKey',
  clearApiKey: 'flashpro.clearApiKey',
  showReport: 'flashpro.showReport',
  quickEditSelection: 'flashpro.quickEditSelection',
  reviewFile: 'flashpro.reviewFile',
  designSelection: 'flashpro.designSelection',
  implementSelection: 'flashpro.implementSelection',
  clearReviews: 'flashpro.clearReviews',
  toggleAutomatic: 'flashpro.toggleAutomatic',
  restartServer: 'flashpro.restartServer',
  showLog: 'flashpro.showLog',
} as const;

/** Name of the output channel that holds the server log (`window/logMessage`). */
export const OUTPUT_CHANNEL = 'flashpro';

/** The language client's id (also the prefix of its `flashpro.trace.server` setting). */
export const CLIENT_ID = 'flashpro';
