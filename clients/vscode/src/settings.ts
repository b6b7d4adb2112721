/**
 * What the server is told about settings, and how it is started: the `flashpro` section minus
 * the client-only keys plus the API key from the secret store, the document selector from
 * `flashpro.enabledLanguages`, and the server command line.
 *
 * Pure module (no `vscode` import): unit-tested in test/settings.test.ts.
 */

import * as path from 'node:path';

import { CLIENT_ONLY_KEYS, SECTION } from './constants';

/** A JSON object, as `workspace.getConfiguration` values are once made plain. */
export type JsonObject = { [key: string]: unknown };

/** Is `value` a plain (non-array, non-null) object? */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The `flashpro` section as the server should see it: a deep copy without the client-only keys,
 * with `apiKey` set from the secret store when there is one.
 */
export function serverSection(section: unknown, apiKey?: string): JsonObject {
  // A JSON round trip: configuration values may be read-only proxies, which structuredClone refuses.
  const copy: JsonObject = isObject(section) ? (JSON.parse(JSON.stringify(section)) as JsonObject) : {};
  for (const key of CLIENT_ONLY_KEYS) {
    delete copy[key];
  }
  const key = apiKey?.trim();
  if (key) {
    copy.apiKey = key;
  }
  return copy;
}

/** `initializationOptions` for the server: `{ flashpro: <server section> }`. */
export function initializationOptions(section: unknown, apiKey?: string): JsonObject {
  return { [SECTION]: serverSection(section, apiKey) };
}

/** One `workspace/configuration` item, as far as this module cares. */
export interface ConfigurationItem {
  section?: string | null;
}

/**
 * Rewrites the client's answer to `workspace/configuration`: an item for section `flashpro`
 * gets the server section (client-only keys removed, API key injected), an item with no section
 * (the whole configuration) gets the same treatment under its `flashpro` key. Other items pass.
 */
export function answerConfiguration(
  items: readonly ConfigurationItem[],
  results: readonly unknown[],
  apiKey?: string,
): unknown[] {
  return results.map((result, index) => {
    const section = items[index]?.section ?? undefined;
    if (section === SECTION) {
      return serverSection(result, apiKey);
    }
    if (section === undefined && isObject(result) && SECTION in result) {
      return { ...result, [SECTION]: serverSection(result[SECTION], apiKey) };
    }
    return result;
  });
}

/** A document filter: the subset of `vscode.DocumentFilter` used here. */
export interface DocumentFilter {
  scheme: string;
  language?: string;
}

/** Schemes the server gets documents from (real files and unsaved buffers). */
const SCHEMES = ['file', 'untitled'] as const;

/**
 * The language client's document selector for `flashpro.enabledLanguages`: `["*"]` (or an empty
 * or malformed list) means every language; otherwise one filter per language and scheme.
 */
export function documentSelector(enabledLanguages: unknown): DocumentFilter[] {
  const languages = Array.isArray(enabledLanguages)
    ? enabledLanguages.filter((item): item is string => typeof item === 'string' && item.trim() !== '')
    : [];
  if (languages.length === 0 || languages.includes('*')) {
    return SCHEMES.map((scheme) => ({ scheme }));
  }
  return [...new Set(languages.map((language) => language.trim()))].flatMap((language) =>
    SCHEMES.map((scheme) => ({ scheme, language })),
  );
}

/** How to start the server, and where that choice came from (for messages). */
export interface ServerCommandLine {
  command: string;
  args: string[];
  /** `setting`: flashpro.server.command; `bundled`: the private environment's server. */
  source: 'setting' | 'bundled';
}

/** What `commandFromSetting` needs from the machine (injected so tests need none). */
export interface CommandEnvironment {
  /** The first workspace folder, for `${workspaceFolder}` in the setting. */
  workspaceFolder?: string;
  /** The home directory, for a leading `~/` in the setting. */
  home?: string;
}

/** What `findOnPath` needs from the machine. */
export interface PathEnvironment {
  /** The PATH variable. */
  pathVariable: string;
  /** True when `file` exists and may be executed. */
  isExecutable: (file: string) => boolean;
  /** Path separator of PATH (default: the platform's). */
  delimiter?: string;
}

/** Replaces `${workspaceFolder}` and a leading `~/` in one argument of the command setting. */
function expand(arg: string, env: CommandEnvironment): string {
  let result = arg;
  if (env.workspaceFolder !== undefined) {
    result = result.split('${workspaceFolder}').join(env.workspaceFolder);
  }
  if (env.home !== undefined && (result === '~' || result.startsWith('~/'))) {
    result = env.home + result.slice(1);
  }
  return result;
}

/** The full path of `name` on PATH, or undefined. */
export function findOnPath(name: string, env: PathEnvironment): string | undefined {
  for (const dir of env.pathVariable.split(env.delimiter ?? path.delimiter)) {
    if (dir === '') {
      continue;
    }
    const candidate = path.join(dir, name);
    if (env.isExecutable(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/**
 * The server command line from the `flashpro.server.command` setting (command then arguments),
 * or undefined when it is not a non-empty list of strings: the extension then runs its bundled
 * server from its private environment.
 */
export function commandFromSetting(setting: unknown, env: CommandEnvironment): ServerCommandLine | undefined {
  if (Array.isArray(setting) && setting.length > 0 && setting.every((a): a is string => typeof a === 'string')) {
    const [command, ...args] = setting.map((arg) => expand(arg, env));
    if (command.trim() !== '') {
      return { command, args, source: 'setting' };
    }
  }
  return undefined;
}

/** The command line of the bundled server in the private environment whose Python is `python`. */
export function bundledCommand(python: string): ServerCommandLine {
  return { command: python, args: ['-m', 'flashpro', 'lsp'], source: 'bundled' };
}

/** The command line as one readable string (for messages and the log). */
export function formatCommandLine(line: { command: string; args: readonly string[] }): string {
  return [line.command, ...line.args].map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

/** `true` when the quick-edit command `args` lack an instruction (a code action's call). */
export function needsInstruction(args: readonly unknown[]): boolean {
  const first = args[0];
  if (!isObject(first)) {
    return false;
  }
  const instruction = first.instruction;
  return typeof instruction !== 'string' || instruction.trim() === '';
}

/** The quick-edit arguments with `instruction` added to the first (object) argument. */
export function withInstruction(args: readonly unknown[], instruction: string): unknown[] {
  const [first, ...rest] = args;
  return [{ ...(isObject(first) ? first : {}), instruction }, ...rest];
}
