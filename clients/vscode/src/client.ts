/**
 * Creates, starts, stops and restarts the language client, and owns what it is started with:
 * the server command line (`flashpro.server.command`, else the bundled server in the private
 * environment that environment.ts builds on first start, with a progress notification), the
 * document selector, `initializationOptions` (settings plus the API key from the secret store)
 * and the middleware: the key in `workspace/configuration` answers, the quick-edit
 * instruction, designs opened in the Markdown preview, the spend lens opening the report, a
 * hint with a task's change (ticking it in the Refactor Preview).
 *
 * The server's messages about the API key become the key prompt (keyPrompt.ts), which goes
 * away once the key is fixed. Failures to start (no Python, pip failing, a server that exits
 * or keeps exiting) end in one error notification that names the command and how it ended,
 * with "Open settings" and "Show log" buttons; the status bar then says the server is not
 * running.
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as vscode from 'vscode';
import {
  CancellationToken,
  CloseAction,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandler,
  type ErrorHandlerResult,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  ResponseError,
  RevealOutputChannelOn,
  type ServerOptions,
  ShowMessageNotification,
  State,
} from 'vscode-languageclient/node';

import { CLIENT_ID, SECRET_API_KEY, SECTION, STATUS_NOTIFICATION, ServerCommand, Setting } from './constants';
import { SetupError, ensureEnvironment, pythonCandidates } from './environment';
import { previewHint } from './implement';
import { KeyPrompt } from './keyPrompt';
import { keepsStopping, lensCommand, opensAsPreview, startFailure } from './messages';
import { askInstruction, lazyProgress, showKeyPrompt, showServerMessage } from './notifications';
import { ServerProcess, pythonEnv, runProcess } from './processes';
import { selectedInterpreter } from './python';
import { redactingChannel } from './redact';
import {
  answerConfiguration,
  bundledCommand,
  commandFromSetting,
  documentSelector,
  findOnPath,
  formatCommandLine,
  initializationOptions,
  needsInstruction,
  type ServerCommandLine,
  withInstruction,
} from './settings';
import { parseStatus } from './status';
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

/** Is `file` an executable regular file? */
function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Buttons of the error notification. */
const OPEN_SETTINGS = 'Open settings';
const SHOW_LOG = 'Show log';
const RETRY = 'Retry';

/** How long a stopping server may take to exit before it is killed. */
const EXIT_GRACE_MS = 2000;

/** The language server connection of one window. */
export class ServerConnection implements vscode.Disposable {
  private client: FlashproLanguageClient | undefined;
  private process: ServerProcess | undefined;
  private line: ServerCommandLine | undefined;
  private apiKey: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private fatalShown = false;
  /** A start failed for good: documents opening do not try again until a restart. */
  private gaveUp = false;
  private everRunning = false;
  private restarts: number[] = [];
  private readonly keyPrompt = new KeyPrompt(showKeyPrompt);
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
          (this.client !== undefined || this.gaveUp) &&
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

  /** Starts the server unless it is running (or starting), or a start failed (see restart). */
  start(): Promise<void> {
    return this.serialize(() => (this.gaveUp ? Promise.resolve() : this.doStart()));
  }

  /** Stops the server (no-op when stopped). */
  stop(): Promise<void> {
    return this.serialize(() => this.doStop());
  }

  /** Stops and starts again with freshly read settings and key (also after a failed start). */
  restart(): Promise<void> {
    return this.serialize(async () => {
      this.gaveUp = false;
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

  /** `flashpro.server.command`, else the bundled server (its environment built if need be). */
  private async commandLine(): Promise<ServerCommandLine> {
    const setting = vscode.workspace.getConfiguration().get<unknown>(Setting.serverCommand);
    const fromSetting = commandFromSetting(setting, {
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      home: os.homedir(),
    });
    if (fromSetting !== undefined) {
      return fromSetting;
    }
    const progress = lazyProgress('flashpro: setting up the language server');
    const setupLog = (line: string): void => this.log.info(`[setup] ${line}`);
    try {
      const environment = await ensureEnvironment({
        storageDir: this.context.globalStorageUri.fsPath,
        bundleDir: path.join(this.context.extensionPath, 'bundled'),
        spawn: runProcess,
        candidates: async () =>
          pythonCandidates(await selectedInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri, setupLog), (name) =>
            findOnPath(name, { pathVariable: process.env.PATH ?? '', isExecutable }),
          ),
        log: setupLog,
        progress: (message) => {
          this.status.showStarting(message);
          progress.report(message);
        },
      });
      this.log.info(
        environment.created
          ? `the server's private environment is ready (flashpro ${environment.version})`
          : `using the server's private environment (flashpro ${environment.version})`,
      );
      return bundledCommand(environment.python);
    } finally {
      progress.done();
    }
  }

  /** Why `line` cannot be started, or undefined when its program exists. */
  private missingProgram(line: ServerCommandLine): string | undefined {
    const found = line.command.includes('/') || line.command.includes('\\')
      ? isExecutable(line.command)
      : findOnPath(line.command, { pathVariable: process.env.PATH ?? '', isExecutable }) !== undefined;
    if (found) {
      return undefined;
    }
    const where = line.source === 'setting' ? ' (flashpro.server.command)' : '';
    return `cannot start the language server: \`${line.command}\`${where} was not found. Correct flashpro.server.command, or clear it to use the server bundled with the extension.`;
  }

  private async doStart(): Promise<void> {
    if (this.client !== undefined) {
      return;
    }
    this.fatalShown = false;
    this.everRunning = false;
    this.restarts = [];
    this.apiKey = (await this.context.secrets.get(SECRET_API_KEY)) ?? undefined;
    this.status.showStarting();
    let line: ServerCommandLine;
    try {
      line = await this.commandLine();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(message);
      this.showFatal(message, error instanceof SetupError && error.problem !== 'no-wheel');
      return;
    }
    this.line = line;
    this.log.info(`starting the language server: ${formatCommandLine(line)}`);
    const missing = this.missingProgram(line);
    if (missing !== undefined) {
      this.log.error(missing);
      this.showFatal(missing);
      return;
    }
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    // A function, not an Executable: the process is ours, so a failed start can say how it ended.
    const serverOptions: ServerOptions = () => {
      this.process = new ServerProcess(line.command, line.args, {
        cwd: cwd !== undefined && fs.existsSync(cwd) ? cwd : undefined,
        env: line.source === 'bundled' ? pythonEnv() : process.env,
      });
      return Promise.resolve(this.process.child);
    };
    const config = vscode.workspace.getConfiguration();
    const client = new FlashproLanguageClient(serverOptions, this.clientOptions(config), (message) => {
      // While starting, client.start() fails as well and the catch below says more (exit code).
      if (this.everRunning) {
        this.showFatal(message);
      }
    });
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
    client.onNotification(STATUS_NOTIFICATION, (payload: unknown) => {
      this.status.showStatus(payload);
      this.keyPrompt.status(parseStatus(payload));
    });
    // Registered before start, so it replaces the client's default window/showMessage handler.
    client.onNotification(ShowMessageNotification.type, (params) => {
      if (!this.keyPrompt.serverMessage(params.message)) {
        showServerMessage(params);
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      const server = this.process;
      const ending = server !== undefined ? await server.exited(EXIT_GRACE_MS) : undefined;
      const reason = error instanceof Error ? error.message : String(error);
      const message = startFailure(formatCommandLine(line), ending, server?.stderrLines() ?? [], reason);
      this.log.error(`${message} (${reason})`);
      this.showFatal(message);
      this.client = undefined;
      await client.dispose().catch(() => undefined);
      await server?.stop(EXIT_GRACE_MS);
      this.status.showStopped(message);
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    const server = this.process;
    this.client = undefined;
    this.keyPrompt.close();
    if (client === undefined) {
      return;
    }
    try {
      await client.dispose();
    } catch (error) {
      this.log.warn(`stopping the language server: ${String(error)}`);
    }
    await server?.stop(EXIT_GRACE_MS);
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
      // No raw error toast: a failed start ends in the notification doStart shows.
      initializationFailedHandler: (error) => {
        this.log.error(`the language server failed to initialize: ${String(error)}`);
        return false;
      },
      middleware: {
        workspace: {
          // A task's change opens the Refactor Preview, where VS Code leaves it unticked: say so.
          handleApplyEdit: (params, next) => {
            const hint = previewHint(params.edit);
            if (hint !== undefined) {
              void vscode.window.showInformationMessage(hint);
            }
            return next(params, CancellationToken.None); // the client's own handler takes no token
          },
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (result instanceof ResponseError || !Array.isArray(result)) {
              return result;
            }
            return answerConfiguration(params.items, result, this.apiKey);
          },
        },
        window: {
          // Designs and explanations are Markdown documents: show them rendered.
          showDocument: async (params, token, next) => {
            if (opensAsPreview(params.uri) && params.external !== true) {
              try {
                await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.parse(params.uri));
                return { success: true };
              } catch (error) {
                this.log.warn(`no Markdown preview (${String(error)}); opening the file as text`);
              }
            }
            return next(params, token);
          },
        },
        provideCodeLenses: async (document, token, next) => {
          const lenses = await next(document, token);
          for (const lens of lenses ?? []) {
            if (lens.command !== undefined) {
              // The spend lens: the server's report command stands for the report panel.
              const command = lensCommand(lens.command.command);
              if (command !== lens.command.command) {
                lens.command = { ...lens.command, command, arguments: [] };
              }
            }
          }
          return lenses;
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
      closed: async (): Promise<CloseHandlerResult> => {
        if (!this.everRunning) {
          // client.start() fails too, and doStart says how the process ended.
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        const now = Date.now();
        this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
        if (this.restarts.length > MAX_RESTARTS) {
          const ending = await this.process?.exited(EXIT_GRACE_MS);
          const line = this.line !== undefined ? formatCommandLine(this.line) : 'flashpro';
          return { action: CloseAction.DoNotRestart, message: keepsStopping(line, this.restarts.length, ending) };
        }
        return { action: CloseAction.Restart, handled: true };
      },
    };
  }

  /** One error notification per start attempt, with buttons to the settings and the log. */
  private showFatal(message: string, retry = false): void {
    this.gaveUp = true;
    this.status.showStopped(message);
    if (this.fatalShown) {
      return;
    }
    this.fatalShown = true;
    const text = message.startsWith('flashpro') ? message : `flashpro: ${message}`;
    const buttons = retry ? [RETRY, OPEN_SETTINGS, SHOW_LOG] : [OPEN_SETTINGS, SHOW_LOG];
    void vscode.window.showErrorMessage(text, ...buttons).then((choice) => {
      if (choice === OPEN_SETTINGS) {
        void vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${this.context.extension.id}`);
      } else if (choice === SHOW_LOG) {
        this.log.show(true);
      } else if (choice === RETRY) {
        void this.restart();
      }
    });
  }

  dispose(): void {
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
    this.keyPrompt.close();
    void this.stop();
  }
}
