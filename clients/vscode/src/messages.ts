/**
 * What the server says, as VS Code shows it:
 *
 * - a message about the API key (none configured, or rejected) is not a plain notification —
 *   VS Code cannot take one of those back once the key is set — but the key prompt
 *   (keyPrompt.ts), whose text `keyPromptText` writes;
 * - a design, explanation or task review the server opens (`window/showDocument` of
 *   `.flashpro/designs/*.md`, `.flashpro/notes/*.md` or `.flashpro/tasks/*.md`) opens in the
 *   Markdown preview;
 * - the spend lens's server command (`flashpro.report`) becomes the extension's report panel;
 * - a server that fails to start is described with its command line, exit code and last
 *   stderr line (`startFailure`).
 *
 * Pure module (no `vscode` import): unit-tested in test/messages.test.ts.
 */

import { Command, ServerCommand } from './constants';

/** A key problem the server reports. */
export type KeyProblem = 'missing' | 'rejected';

const MISSING = /no DeepSeek API key is configured/i;
const REJECTED = /DeepSeek rejected the API key(?: \([^)]*\))?/i;

/** The key problem a server message is about, if any. */
export function keyProblem(message: string): KeyProblem | undefined {
  return MISSING.test(message) ? 'missing' : REJECTED.test(message) ? 'rejected' : undefined;
}

/** The key prompt's text (Markdown link to the Set API key command included). */
export function keyPromptText(problem: KeyProblem, message: string): string {
  const link = `[Set API key](command:${Command.setApiKey})`;
  if (problem === 'missing') {
    return `no DeepSeek API key: completions and actions are off. ${link}`;
  }
  const what = REJECTED.exec(message)?.[0] ?? 'DeepSeek rejected the API key';
  return `${what}: calls are paused until the key changes. ${link}`;
}

/** Does `uri` name a design, explanation or task review the server wrote (to open as a Markdown preview)? */
export function opensAsPreview(uri: string): boolean {
  return /^file:\/\/.*\/\.flashpro\/(designs|notes|tasks)\/[^/]+\.md$/i.test(uri);
}

/** The VS Code command a code lens's server command stands for. */
export function lensCommand(command: string): string {
  return command === ServerCommand.report ? Command.showReport : command;
}

/** How a server process ended (processes.ts `ExitInfo`). */
export interface Ending {
  code: number | null;
  signal: string | null;
  error?: string;
}

/** The line of the server's stderr worth quoting: the exception, else the last line. */
function worstLine(stderr: readonly string[]): string | undefined {
  const lines = stderr.map((line) => line.trim()).filter((line) => line !== '');
  const found = [...lines].reverse().find((line) => /^[\w.]*(Error|Exception)\b|^error:/i.test(line));
  const line = found ?? lines[lines.length - 1];
  return line !== undefined && line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * Why the server did not start, in one sentence: the command line, then how the process
 * ended (exit code, signal, could not run) or, still running, the start error; then the
 * server's last word on stderr.
 */
export function startFailure(commandLine: string, ending: Ending | undefined, stderr: readonly string[], error?: string): string {
  const said = worstLine(stderr);
  const tail = said !== undefined ? ` — ${said}` : '';
  if (ending === undefined) {
    return `the language server did not start: \`${commandLine}\` ${error ? `failed: ${error}` : 'did not answer'}${tail}.`;
  }
  const how =
    ending.error !== undefined
      ? `could not be run (${ending.error})`
      : ending.signal !== null
        ? `was ended by ${ending.signal}`
        : `exited with code ${ending.code}`;
  return `the language server exited while starting: \`${commandLine}\` ${how}${tail}.`;
}

/** The message after the server stopped `times` times in a short while. */
export function keepsStopping(commandLine: string, times: number, ending: Ending | undefined): string {
  const how = ending === undefined ? '' : ending.signal !== null ? `, last ended by ${ending.signal},` : `, last exit code ${ending.code},`;
  return `the language server (\`${commandLine}\`) stopped ${times} times in 3 minutes${how} and will not be restarted.`;
}
