/**
 * The private Python environment the bundled server runs in, the way Python tool extensions do
 * it: the `.vsix` carries the flashpro wheel (`bundled/flashpro_lsp-<version>-py3-none-any.whl`,
 * built at `npm run package`); on first start the extension finds a Python ≥ 3.11, creates a
 * virtual environment in its global storage and installs the wheel into it with pip (the
 * dependencies come from PyPI, or wherever the user's pip configuration points).
 *
 * Layout under `<global storage>/server/`: `env-<12 hex of the wheel's sha256>/` (the virtual
 * environment), `environment.json` (which wheel it holds, made with which Python) and, while a
 * window builds one, the lock directory `setup.lock`. An environment is reused while the bundled
 * wheel is the one it was built from and its interpreter still exists; a different wheel (a
 * new extension version) builds a new one next to it, which replaces the record only once it
 * works, then the old one is removed. Nothing half-built is ever used.
 *
 * Pure module (no `vscode` import): unit-tested in test/environment.test.ts with a fake spawner.
 */

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The oldest Python the server supports (pyproject.toml `requires-python`). */
export const MIN_PYTHON: readonly [number, number] = [3, 11];

/** The record of the environment in use, next to it. */
export const RECORD_FILE = 'environment.json';

/** The lock a window holds while it builds an environment. */
export const LOCK_DIR = 'setup.lock';

/** A lock older than this is left over from a window that died while building. */
const STALE_LOCK_MS = 15 * 60 * 1000;

/** Prints the interpreter's version and path as JSON. */
const PROBE = 'import json, sys; print(json.dumps({"version": list(sys.version_info[:3]), "executable": sys.executable}))';

/** Prints the installed server's version. */
const CHECK = 'import flashpro; print(flashpro.__version__)';

/** What one process run gave back. */
export interface RunResult {
  /** Exit code; null when it was killed or never ran. */
  code: number | null;
  /** Its stdout and stderr lines, interleaved (the last few hundred). */
  output: string[];
  /** Why it could not run at all (e.g. `spawn python3 ENOENT`). */
  error?: string;
}

/** Runs a program to its end; `onLine` sees each output line as it comes. */
export type Spawner = (
  command: string,
  args: readonly string[],
  options?: { onLine?: (line: string) => void; timeoutMs?: number },
) => Promise<RunResult>;

/** A Python interpreter to try, in order of preference. */
export interface PythonCandidate {
  command: string;
  /** Arguments before the script's own (`-3` for the Windows `py` launcher). */
  args?: string[];
  /** Where it came from, for messages: "the Python extension's interpreter", "python3 on PATH". */
  origin: string;
}

/** A candidate that runs and is recent enough. */
export interface Interpreter extends PythonCandidate {
  executable: string;
  version: [number, number, number];
}

/** The wheel shipped in the extension. */
export interface BundledWheel {
  file: string;
  name: string;
  version: string;
  sha256: string;
}

/** `environment.json`. */
export interface EnvironmentRecord {
  wheel: string;
  sha256: string;
  version: string;
  dir: string;
  python: string;
  pythonVersion: string;
  created: string;
}

/** The environment to start the server from. */
export interface ServerEnvironment {
  /** The environment's Python: run `<python> -m flashpro lsp`. */
  python: string;
  /** The flashpro version installed there. */
  version: string;
  /** True when this call built it. */
  created: boolean;
}

/** Why there is no environment; `message` is the one sentence shown to the user. */
export type SetupProblem = 'no-wheel' | 'no-python' | 'venv' | 'pip';

export class SetupError extends Error {
  constructor(
    readonly problem: SetupProblem,
    message: string,
  ) {
    super(message);
    this.name = 'SetupError';
  }
}

/** What `ensureEnvironment` needs from the machine and the editor. */
export interface EnvironmentOptions {
  /** The extension's global storage folder. */
  storageDir: string;
  /** The folder of the bundled wheel (`<extension>/bundled`). */
  bundleDir: string;
  spawn: Spawner;
  /** The interpreters to try, best first (asked only when an environment must be built). */
  candidates: () => Promise<PythonCandidate[]>;
  /** A line for the log. */
  log: (line: string) => void;
  /** A short progress message for the user. */
  progress: (message: string) => void;
  platform?: NodeJS.Platform;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

/** The bundled flashpro wheel in `bundleDir`, or undefined. */
export function findWheel(bundleDir: string): BundledWheel | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(bundleDir);
  } catch {
    return undefined;
  }
  const name = names.filter((n) => /^flashpro_lsp-[^-]+-.+\.whl$/.test(n)).sort()[0];
  if (name === undefined) {
    return undefined;
  }
  const file = path.join(bundleDir, name);
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  return { file, name, version: name.split('-')[1], sha256 };
}

/** The Python executable inside a virtual environment. */
export function envPython(envDir: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? path.join(envDir, 'Scripts', 'python.exe') : path.join(envDir, 'bin', 'python');
}

/** `[3, 12, 1]` as `3.12.1`. */
function versionText(version: readonly number[]): string {
  return version.join('.');
}

/** Is `version` at least `MIN_PYTHON`? */
export function recentEnough(version: readonly number[]): boolean {
  const [major = 0, minor = 0] = version;
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/** The probe's answer (its last JSON line), or undefined. */
export function parseProbe(output: readonly string[]): { version: [number, number, number]; executable: string } | undefined {
  for (const line of [...output].reverse()) {
    try {
      const data = JSON.parse(line) as { version?: unknown; executable?: unknown };
      const version = data.version;
      if (
        Array.isArray(version) &&
        version.length === 3 &&
        version.every((n) => typeof n === 'number') &&
        typeof data.executable === 'string'
      ) {
        return { version: version as [number, number, number], executable: data.executable };
      }
    } catch {
      // not the probe's line
    }
  }
  return undefined;
}

/** The last line of `output` that says something (pip's `ERROR: …`, else the last non-blank one). */
export function lastProblem(output: readonly string[]): string | undefined {
  const lines = output.map((line) => line.trim()).filter((line) => line !== '');
  return [...lines].reverse().find((line) => /^(ERROR|error):/.test(line)) ?? lines[lines.length - 1];
}

/** The first candidate that runs and is Python ≥ 3.11; a `no-python` SetupError otherwise. */
export async function findInterpreter(
  candidates: readonly PythonCandidate[],
  spawn: Spawner,
  log: (line: string) => void,
): Promise<Interpreter> {
  const tooOld: string[] = [];
  const tried = new Set<string>();
  for (const candidate of candidates) {
    const key = [candidate.command, ...(candidate.args ?? [])].join(' ');
    if (tried.has(key)) {
      continue;
    }
    tried.add(key);
    const result = await spawn(candidate.command, [...(candidate.args ?? []), '-c', PROBE], { timeoutMs: 20_000 });
    const probe = result.code === 0 ? parseProbe(result.output) : undefined;
    if (probe === undefined) {
      log(`${key} (${candidate.origin}) did not run: ${result.error ?? lastProblem(result.output) ?? `exit code ${result.code}`}`);
      continue;
    }
    log(`${key} (${candidate.origin}) is Python ${versionText(probe.version)} at ${probe.executable}`);
    if (recentEnough(probe.version)) {
      return { ...candidate, executable: probe.executable, version: probe.version };
    }
    tooOld.push(`${key} is ${versionText(probe.version)} (${candidate.origin})`);
  }
  const minimum = versionText(MIN_PYTHON);
  const found = tooOld.length > 0 ? `found only ${tooOld.join('; ')}` : 'found none (no python3 on PATH)';
  throw new SetupError(
    'no-python',
    `flashpro needs Python ${minimum} or newer to run its language server and ${found}. Install Python ${minimum}+ ` +
      `(and select it with the Python extension), or point flashpro.server.command at a flashpro installation.`,
  );
}

/** Reads `environment.json`, or undefined. */
export function readRecord(root: string): EnvironmentRecord | undefined {
  try {
    const data = JSON.parse(fs.readFileSync(path.join(root, RECORD_FILE), 'utf8')) as Partial<EnvironmentRecord>;
    return typeof data.dir === 'string' && typeof data.sha256 === 'string' && typeof data.wheel === 'string'
      ? (data as EnvironmentRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `environment.json` whole (a temporary file renamed over it). */
function writeRecord(root: string, record: EnvironmentRecord): void {
  const temporary = path.join(root, `${RECORD_FILE}.tmp`);
  fs.writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(temporary, path.join(root, RECORD_FILE));
}

/** The environment the record names, when it holds `wheel` and its Python still exists. */
function usable(root: string, record: EnvironmentRecord | undefined, wheel: BundledWheel, platform: NodeJS.Platform): string | undefined {
  if (record === undefined || record.sha256 !== wheel.sha256 || record.wheel !== wheel.name) {
    return undefined;
  }
  const python = envPython(path.join(root, record.dir), platform);
  return fs.existsSync(python) ? python : undefined; // a removed base interpreter breaks the link
}

/** Runs `step` holding the setup lock; waits while another window holds it. */
async function withLock<T>(root: string, options: EnvironmentOptions, step: () => Promise<T>): Promise<T> {
  const lock = path.join(root, LOCK_DIR);
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let said = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
    let age: number;
    try {
      age = now().getTime() - fs.statSync(lock).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if (age > STALE_LOCK_MS) {
      options.log(`removing a setup lock left ${Math.round(age / 60000)} min ago: ${lock}`);
      fs.rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!said) {
      said = true;
      options.progress('waiting for another window that is setting up the server…');
    }
    await sleep(1000);
  }
  try {
    return await step();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the environment for `wheel` and records it. */
async function build(root: string, wheel: BundledWheel, options: EnvironmentOptions): Promise<ServerEnvironment> {
  const platform = options.platform ?? process.platform;
  const { spawn, log, progress } = options;
  progress(`looking for Python ${versionText(MIN_PYTHON)} or newer…`);
  const interpreter = await findInterpreter(await options.candidates(), spawn, log);
  const dir = `env-${wheel.sha256.slice(0, 12)}`;
  const envDir = path.join(root, dir);
  fs.rmSync(envDir, { recursive: true, force: true }); // an earlier attempt that failed half-way
  const python = versionText(interpreter.version);
  progress(`creating a virtual environment with Python ${python}…`);
  log(`creating ${envDir} with ${interpreter.executable} (Python ${python})`);
  const venv = await spawn(interpreter.executable, ['-m', 'venv', envDir], { onLine: log });
  const envPy = envPython(envDir, platform);
  if (venv.code !== 0 || !fs.existsSync(envPy)) {
    fs.rmSync(envDir, { recursive: true, force: true });
    const text = venv.output.join('\n');
    const hint = /ensurepip|venv/i.test(text) && platform === 'linux' ? ' (on Debian and Ubuntu: install the python3-venv package)' : '';
    throw new SetupError(
      'venv',
      `could not create the server's virtual environment with ${interpreter.executable}${hint}: ${venv.error ?? lastProblem(venv.output) ?? `exit code ${venv.code}`}.`,
    );
  }
  progress(`installing flashpro ${wheel.version} and its dependencies…`);
  log(`installing ${wheel.name} into ${envDir}`);
  const pip = await spawn(envPy, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', wheel.file], {
    onLine: (line) => {
      log(line);
      const collecting = /^Collecting (\S+)/.exec(line.trim());
      if (collecting !== null) {
        progress(`installing flashpro ${wheel.version}: ${collecting[1]}…`);
      }
    },
  });
  const check = pip.code === 0 ? await spawn(envPy, ['-c', CHECK], { timeoutMs: 60_000 }) : undefined;
  const installed = check?.code === 0 ? check.output.map((line) => line.trim()).filter(Boolean).pop() : undefined;
  if (installed === undefined) {
    fs.rmSync(envDir, { recursive: true, force: true });
    const failed = check ?? pip;
    throw new SetupError(
      'pip',
      `could not install the language server into its environment (pip ${pip.code === 0 ? 'finished, but flashpro does not import' : `exited with code ${pip.code}`}: ${failed.error ?? lastProblem(failed.output) ?? 'no output'}). Check the network connection to PyPI (or your pip configuration), then run flashpro: Restart Server.`,
    );
  }
  const now = options.now ?? (() => new Date());
  writeRecord(root, {
    wheel: wheel.name,
    sha256: wheel.sha256,
    version: installed,
    dir,
    python: interpreter.executable,
    pythonVersion: python,
    created: now().toISOString(),
  });
  for (const name of fs.readdirSync(root)) {
    if (name.startsWith('env-') && name !== dir) {
      log(`removing the previous environment ${name}`);
      try {
        fs.rmSync(path.join(root, name), { recursive: true, force: true });
      } catch (error) {
        log(`could not remove ${name}: ${String(error)}`); // still in use (Windows): next time
      }
    }
  }
  log(`the server environment is ready: flashpro ${installed}, Python ${python}`);
  return { python: envPy, version: installed, created: true };
}

/**
 * The environment to run the bundled server from: the recorded one when it holds the bundled
 * wheel, else a new one (found Python, venv, pip install), built under the setup lock.
 */
export async function ensureEnvironment(options: EnvironmentOptions): Promise<ServerEnvironment> {
  const platform = options.platform ?? process.platform;
  const wheel = findWheel(options.bundleDir);
  if (wheel === undefined) {
    throw new SetupError(
      'no-wheel',
      `this build of the extension carries no flashpro server (no wheel in ${options.bundleDir}: build the .vsix with npm run package), so point flashpro.server.command at a flashpro installation.`,
    );
  }
  const root = path.join(options.storageDir, 'server');
  fs.mkdirSync(root, { recursive: true });
  const ready = (): ServerEnvironment | undefined => {
    const record = readRecord(root);
    const python = usable(root, record, wheel, platform);
    return python !== undefined && record !== undefined ? { python, version: record.version, created: false } : undefined;
  };
  return ready() ?? (await withLock(root, options, async () => ready() ?? (await build(root, wheel, options))));
}

/** Interpreter names tried on PATH, best first (`python3` first: the one the user runs). */
const PATH_NAMES: Record<'posix' | 'win32', readonly [string, string[]][]> = {
  posix: [['python3', []], ['python3.14', []], ['python3.13', []], ['python3.12', []], ['python3.11', []], ['python', []]],
  win32: [['py', ['-3']], ['python', []], ['python3', []]],
};

/**
 * The interpreters to try: the Python extension's selected one first (when it is installed and
 * has one), then the usual names found on PATH.
 */
export function pythonCandidates(
  extensionInterpreter: string | undefined,
  findOnPath: (name: string) => string | undefined,
  platform: NodeJS.Platform = process.platform,
): PythonCandidate[] {
  const result: PythonCandidate[] = [];
  if (extensionInterpreter !== undefined && extensionInterpreter.trim() !== '') {
    result.push({ command: extensionInterpreter, origin: "the Python extension's interpreter" });
  }
  const names = PATH_NAMES[platform === 'win32' ? 'win32' : 'posix'];
  for (const [name, args] of names) {
    const found = findOnPath(platform === 'win32' ? `${name}.exe` : name);
    if (found !== undefined) {
      result.push({ command: found, args, origin: `${name} on PATH` });
    }
  }
  return result;
}
