/**
 * Child processes: `runProcess`, the `Spawner` the environment setup runs Python and pip with,
 * and `ServerProcess`, the language server's own process, which remembers how it ended and what
 * it last wrote to stderr so that a failed start can say what happened.
 *
 * No `vscode` import: the extension and the unit tests use it alike.
 */

import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import * as readline from 'node:readline';

import type { RunResult, Spawner } from './environment';

/** Output lines kept per run (pip prints a few hundred at most). */
const KEPT_LINES = 400;

/** Bytes of the server's stderr kept for messages. */
const KEPT_STDERR = 4096;

/**
 * The environment for Python processes of the private environment: the extension host's,
 * without the variables that would make that Python load other packages or another stdlib.
 */
export function pythonEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  delete env.PYTHONHOME;
  delete env.PYTHONPATH;
  return env;
}

/** Runs `command` to its end, line by line; never rejects. */
export const runProcess: Spawner = (command, args, options = {}) =>
  new Promise<RunResult>((resolve) => {
    const output: string[] = [];
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: RunResult): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(result);
      }
    };
    let child: ChildProcess;
    try {
      child = spawn(command, [...args], { env: pythonEnv(), stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (error) {
      finish({ code: null, output, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    const take = (line: string): void => {
      output.push(line);
      if (output.length > KEPT_LINES) {
        output.shift();
      }
      options.onLine?.(line);
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) {
        readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', take);
      }
    }
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        take(`(stopped after ${Math.round(options.timeoutMs! / 1000)} s)`);
        child.kill();
      }, options.timeoutMs);
    }
    child.on('error', (error) => finish({ code: null, output, error: error.message }));
    child.on('close', (code) => finish({ code, output }));
  });

/** How a process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It never ran (e.g. `spawn /x/python ENOENT`). */
  error?: string;
}

/** The language server's process, as started for the language client. */
export class ServerProcess {
  readonly child: ChildProcess;
  private ended: ExitInfo | undefined;
  private readonly waiters: ((exit: ExitInfo) => void)[] = [];
  private stderr = '';

  constructor(command: string, args: readonly string[], options: SpawnOptions) {
    this.child = spawn(command, [...args], { ...options, stdio: 'pipe', windowsHide: true });
    this.child.on('exit', (code, signal) => this.end({ code, signal }));
    this.child.on('error', (error) => this.end({ code: null, signal: null, error: error.message }));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-KEPT_STDERR);
    });
  }

  /** How it ended, once it has. */
  get exit(): ExitInfo | undefined {
    return this.ended;
  }

  /** The last lines it wrote to stderr. */
  stderrLines(): string[] {
    return this.stderr.split(/\r?\n/).filter((line) => line.trim() !== '');
  }

  /** Waits up to `timeoutMs` for the process to end; undefined when it is still running. */
  exited(timeoutMs: number): Promise<ExitInfo | undefined> {
    if (this.ended !== undefined) {
      return Promise.resolve(this.ended);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.waiters.push((exit) => {
        clearTimeout(timer);
        resolve(exit);
      });
    });
  }

  /** Ends the process if it has not ended within `graceMs` (after the client's shutdown/exit). */
  async stop(graceMs: number): Promise<void> {
    if ((await this.exited(graceMs)) === undefined) {
      this.child.kill();
      await this.exited(graceMs);
    }
  }

  private end(exit: ExitInfo): void {
    if (this.ended !== undefined) {
      return;
    }
    this.ended = exit;
    for (const waiter of this.waiters.splice(0)) {
      waiter(exit);
    }
  }
}
