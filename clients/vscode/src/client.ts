/**
 * Creates, starts, stops and restarts the language client, and owns what it is started with:
 * the server command line, the document selector, `initializationOptions` (settings plus the
 * API key from the secret store) and the middleware that injects the key into
 * `workspace/configuration` answers and asks for a quick-edit instruction.
 *
 * Failures to start (or a server that keeps exiting) end in one error notification with
 * "Open settings" and "Show log" buttons; the status bar then says the server is not running.
 */

import * as fs from 'node:fs';
import * as os from 'node:os';

import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandler,
  type ErrorHandlerResult,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  MessageType,
  ResponseError,
  RevealOutputChannelOn,
  type ServerOptions,
  ShowMessageNotification,
  type ShowMessageParams,
  State,
} from 'vscode-languageclient/node';

import { CLIENT_ID, Command, SECRET_API_KEY, SECTION, STATUS_NOTIFICATION, ServerCommand, Setting } from './constants';
import { SET_KEY_BUTTON, messageButtons } from './messages';
import { redactingChannel } from './redact';
import {
  answerConfiguration,
  documentSelector,
  findOnPath,
  formatCommandLine,
  initializationOptions,
  needsInstruction,
  resolveServerCommand,
  type ServerCommandLine,
  withInstruction,
} from './settings';
import type { StatusBar } from './statusBar';

/** Restarts allowed after crashes within `RESTART_WINDOW_MS` before giving up. */
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/** A language client whose must-show errors go to flashpro's own notification. */
class FlashproLanguageClient extends LanguageClient {
  constructor(
    options: ServerOptions,
    clientOptions: LanguageClientOptions,
    private readonly onFatal: (message: string) => void,
  ) {
    super(CLIENT_ID, 'flashpro', options, clientOptions);
  }

  override error(message: string, data?: unknown, showNotification: boolean | 'force' = true): void {
    if (showNotification === 'force') {
      super.error(message, data, false);
      this.onFatal(message);
      return;
    }
    super.error(message, data, showNotification);
  }
}

/** A server message as the language client shows it, with a "Set API key" button on key messages. */
async function showServerMessage(params: ShowMessageParams): Promise<void> {
  const show =
    params.type === MessageType.Error
      ? vscode.window.showErrorMessage
      : params.type === MessageType.Warning
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  const picked = await show(params.message, ...messageButtons(params.message));
  if (picked === SET_KEY_BUTTON) {
    await vscode.commands.executeCommand(Command.setApiKey);
  }
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

/** Is `file` an executable regular file? */
function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The language server connection of one window. */
export class ServerConnection implements vscode.Disposable {
  private client: FlashproLanguageClient | undefined;
  private apiKey: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private fatalShown = false;
  private everRunning = false;
  private restarts: number[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  /** The channel given to the client: every line passes through key redaction. */
  private readonly clientChannel: vscode.LogOutputChannel;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {
    this.clientChannel = redactingChannel(log, () => [this.apiKey]);
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (
          this.client !== undefined &&
          (event.affectsConfiguration(Setting.serverCommand) || event.affectsConfiguration(Setting.enabledLanguages))
        ) {
          void this.restart();
        }
      }),
      context.secrets.onDidChange((event) => {
        if (event.key === SECRET_API_KEY) {
          void this.useStoredKey(); // set or cleared here or in another window
        }
      }),
    );
  }

  /** True while the server is up. */
  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Runs start/stop steps one after the other. */
  private serialize<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Starts the server unless it is running (or starting). */
  start(): Promise<void> {
    return this.serialize(() => this.doStart());
  }

  /** Stops the server (no-op when stopped). */
  stop(): Promise<void> {
    return this.serialize(() => this.doStop());
  }

  /** Stops and starts again with freshly read settings and key. */
  restart(): Promise<void> {
    return this.serialize(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /**
   * Restarts a running server if the stored API key differs from the one it was started with;
   * true when it did. (A server not started yet reads the key when it starts.)
   */
  useStoredKey(): Promise<boolean> {
    return this.serialize(async () => {
      if (this.client === undefined) {
        return false;
      }
      const stored = (await this.context.secrets.get(SECRET_API_KEY)) ?? undefined;
      if (stored === this.apiKey) {
        return false;
      }
      await this.doStop();
      await this.doStart();
      return true;
    });
  }

  /** Sends `workspace/executeCommand` to the server, starting it if needed. */
  async execute(command: string, argument?: object, token?: vscode.CancellationToken): Promise<unknown> {
    await this.start();
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      throw new Error('the flashpro language server is not running (see flashpro: Show Server Log)');
    }
    const params = { command, arguments: argument === undefined ? [] : [argument] };
    return token === undefined
      ? client.sendRequest(ExecuteCommandRequest.type, params)
      : client.sendRequest(ExecuteCommandRequest.type, params, token);
  }

  /** Whether the server has a key from somewhere: secret store, environment or settings. */
  private hasKey(): boolean {
    const setting = vscode.workspace.getConfiguration(SECTION).get<unknown>('apiKey');
    return Boolean(this.apiKey || process.env.DEEPSEEK_API_KEY || (typeof setting === 'string' && setting.trim()));
  }

  private commandLine(): ServerCommandLine {
    const setting = vscode.workspace.getConfiguration().get<unknown>(Setting.serverCommand);
    return resolveServerCommand(setting, {
      pathVariable: process.env.PATH ?? '',
      isExecutable,
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      home: os.homedir(),
    });
  }

  /** Why `line` cannot be started, or undefined when its program exists. */
  private missingProgram(line: ServerCommandLine): string | undefined {
    const found = line.command.includes('/')
      ? isExecutable(line.command)
      : findOnPath(line.command, { pathVariable: process.env.PATH ?? '', isExecutable }) !== undefined;
    if (found) {
      return undefined;
    }
    const where = line.source === 'setting' ? ' (flashpro.server.command)' : '';
    return `cannot start the language server: \`${line.command}\`${where} was not found. Install flashpro (\`pip install flashpro-lsp\`) or set flashpro.server.command.`;
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    this.fatalShown = false;
    this.everRunning = false;
    this.restarts = [];
    this.apiKey = (await this.context.secrets.get(SECRET_API_KEY)) ?? undefined;
    const line = this.commandLine();
    this.log.info(`starting the language server: ${formatCommandLine(line)}`);
    const missing = this.missingProgram(line);
    if (missing !== undefined) {
      this.log.error(missing);
      this.showFatal(missing);
      return;
    }
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const serverOptions: ServerOptions = {
      command: line.command,
      args: line.args,
      options: cwd !== undefined && fs.existsSync(cwd) ? { cwd } : {},
    };
    const config = vscode.workspace.getConfiguration();
    const client = new FlashproLanguageClient(serverOptions, this.clientOptions(config), (message) =>
      this.showFatal(message),
    );
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.everRunning = true;
        this.status.showReady(this.hasKey());
      } else if (event.newState === State.Starting) {
        this.status.showStarting();
      } else if (this.client === client) {
        this.status.showStopped();
      }
    });
    client.onNotification(STATUS_NOTIFICATION, (payload: unknown) => this.status.showStatus(payload));
    // Registered before start, so it replaces the client's default window/showMessage handler.
    client.onNotification(ShowMessageNotification.type, (params) => void showServerMessage(params));
    this.client = client;
    this.status.showStarting();
    try {
      await client.start();
    } catch (error) {
      this.log.error(`the language server did not start: ${String(error)}`);
      this.showFatal(`the language server did not start (${formatCommandLine(line)}).`);
      this.client = undefined;
      await client.dispose().catch(() => undefined);
      this.status.showStopped();
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      await client.dispose();
    } catch (error) {
      this.log.warn(`stopping the language server: ${String(error)}`);
    }
    this.status.showStopped();
  }

  private clientOptions(config: vscode.WorkspaceConfiguration): LanguageClientOptions {
    return {
      documentSelector: documentSelector(config.get<unknown>(Setting.enabledLanguages)),
      outputChannel: this.clientChannel,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: initializationOptions(config.get<unknown>(SECTION), this.apiKey),
      synchronize: { configurationSection: SECTION },
      errorHandler: this.errorHandler(),
      // No raw error toast: a failed start ends in showFatal's notification (from start()).
      initializationFailedHandler: (error) => {
        this.log.error(`the language server failed to initialize: ${String(error)}`);
        return false;
      },
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (result instanceof ResponseError || !Array.isArray(result)) {
              return result;
            }
            return answerConfiguration(params.items, result, this.apiKey);
          },
        },
        executeCommand: async (command, args, next): Promise<unknown> => {
          if (command === ServerCommand.quickEdit && needsInstruction(args)) {
            // The server's "Quick edit…" code action comes without an instruction: ask for it.
            const instruction = await askInstruction();
            if (instruction === undefined) {
              return undefined;
            }
            return (await next(command, withInstruction(args, instruction))) as unknown;
          }
          return (await next(command, args)) as unknown;
        },
      },
    };
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (_error, _message, count): ErrorHandlerResult =>
        count !== undefined && count <= 3 ? { action: ErrorAction.Continue } : { action: ErrorAction.Shutdown },
      closed: (): CloseHandlerResult => {
        if (!this.everRunning) {
          return { action: CloseAction.DoNotRestart, message: 'the language server exited while starting.' };
        }
        const now = Date.now();
        this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
        if (this.restarts.length > MAX_RESTARTS) {
          return {
            action: CloseAction.DoNotRestart,
            message: `the language server stopped ${this.restarts.length} times in 3 minutes and will not be restarted.`,
          };
        }
        return { action: CloseAction.Restart, handled: true };
      },
    };
  }

  /** One error notification per start attempt, with buttons to the settings and the log. */
  private showFatal(message: string): void {
    this.status.showStopped(message);
    if (this.fatalShown) {
      return;
    }
    this.fatalShown = true;
    const text = message.startsWith('flashpro') ? message : `flashpro: ${message}`;
    void vscode.window.showErrorMessage(text, 'Open settings', 'Show log').then((choice) => {
      if (choice === 'Open settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${this.context.extension.id}`);
      } else if (choice === 'Show log') {
        this.log.show(true);
      }
    });
  }

  dispose(): void {
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
    void this.stop();
  }
}
