import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import {
  type EnvironmentOptions,
  LOCK_DIR,
  type PythonCandidate,
  type RunResult,
  SetupError,
  type Spawner,
  ensureEnvironment,
  envPython,
  parseProbe,
  pythonCandidates,
  readRecord,
  recentEnough,
} from '../src/environment';

/** One call the fake spawner saw. */
interface Call {
  command: string;
  args: readonly string[];
}

/**
 * A scripted machine: interpreters by command (their version, or absent: does not run), and
 * what venv and pip do. `venv` and `pip install` act on the real temporary folder as the real
 * tools would (the venv's python appears; pip "installs" so the import check passes).
 */
class FakeMachine {
  readonly calls: Call[] = [];
  interpreters = new Map<string, [number, number, number]>();
  venvOutput: { code: number; lines: string[] } = { code: 0, lines: [] };
  pipOutput: { code: number; lines: string[] } = {
    code: 0,
    lines: ['Processing ./flashpro_lsp-0.1.0-py3-none-any.whl', 'Collecting pygls==2.1.1', 'Collecting openai==3.54.0', 'Successfully installed flashpro-lsp-0.1.0'],
  };
  installed = new Set<string>(); // env pythons where flashpro was installed

  readonly spawn: Spawner = (command, args, options = {}) => {
    this.calls.push({ command, args: [...args] });
    const answer = (code: number | null, lines: string[], error?: string): Promise<RunResult> => {
      lines.forEach((line) => options.onLine?.(line));
      return Promise.resolve({ code, output: lines, error });
    };
    const script = args[args.indexOf('-c') + 1];
    if (args.includes('-c') && script.includes('sys.version_info')) {
      const version = this.interpreters.get(command);
      return version === undefined
        ? answer(null, [], `spawn ${command} ENOENT`)
        : answer(0, [JSON.stringify({ version, executable: `/real${command}` })]);
    }
    if (args[0] === '-m' && args[1] === 'venv') {
      if (this.venvOutput.code === 0) {
        const python = envPython(args[2], 'linux');
        fs.mkdirSync(path.dirname(python), { recursive: true });
        fs.writeFileSync(python, '');
      }
      return answer(this.venvOutput.code, this.venvOutput.lines);
    }
    if (args.slice(0, 3).join(' ') === '-m pip install') {
      if (this.pipOutput.code === 0) {
        this.installed.add(command);
      }
      return answer(this.pipOutput.code, this.pipOutput.lines);
    }
    if (args.includes('-c') && script.includes('import flashpro')) {
      return this.installed.has(command) ? answer(0, ['0.1.0']) : answer(1, ["ModuleNotFoundError: No module named 'flashpro'"]);
    }
    return answer(127, [`unexpected: ${command} ${args.join(' ')}`]);
  };
}

let scratch: string;
let machine: FakeMachine;
let progress: string[];
let logged: string[];

function bundle(version = '0.1.0', content = 'wheel bytes'): string {
  const dir = path.join(scratch, 'extension', 'bundled');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `flashpro_lsp-${version}-py3-none-any.whl`);
  fs.writeFileSync(file, content);
  return file;
}

function options(candidates: PythonCandidate[], extra: Partial<EnvironmentOptions> = {}): EnvironmentOptions {
  return {
    storageDir: path.join(scratch, 'storage'),
    bundleDir: path.join(scratch, 'extension', 'bundled'),
    spawn: machine.spawn,
    candidates: () => Promise.resolve(candidates),
    log: (line) => logged.push(line),
    progress: (message) => progress.push(message),
    platform: 'linux',
    now: () => new Date('2026-05-01T10:00:00Z'),
    sleep: () => Promise.resolve(),
    ...extra,
  };
}

const root = (): string => path.join(scratch, 'storage', 'server');
const PY311: PythonCandidate = { command: '/usr/bin/python3.11', origin: 'python3.11 on PATH' };

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'flashpro-env-test-'));
  machine = new FakeMachine();
  progress = [];
  logged = [];
});

afterEach(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('ensureEnvironment: first start', () => {
  it('picks the first Python >= 3.11, creates the venv, installs the bundled wheel and records it', async () => {
    const wheel = bundle();
    machine.interpreters.set('/usr/bin/python3', [3, 10, 12]);
    machine.interpreters.set('/usr/bin/python3.11', [3, 11, 9]);
    machine.interpreters.set('/usr/bin/python3.12', [3, 12, 1]);
    const env = await ensureEnvironment(
      options([
        { command: '/missing/python', origin: "the Python extension's interpreter" },
        { command: '/usr/bin/python3', origin: 'python3 on PATH' },
        PY311,
        { command: '/usr/bin/python3.12', origin: 'python3.12 on PATH' },
      ]),
    );
    const record = readRecord(root());
    assert.ok(record);
    assert.equal(env.created, true);
    assert.equal(env.version, '0.1.0');
    assert.equal(env.python, envPython(path.join(root(), record.dir), 'linux'));
    assert.match(record.dir, /^env-[0-9a-f]{12}$/);
    assert.deepEqual(
      { wheel: record.wheel, version: record.version, python: record.python, pythonVersion: record.pythonVersion },
      { wheel: 'flashpro_lsp-0.1.0-py3-none-any.whl', version: '0.1.0', python: '/real/usr/bin/python3.11', pythonVersion: '3.11.9' },
    );
    // Probed in order until one was recent enough (3.12 was never asked); the venv comes from
    // the interpreter's real executable; pip installs the wheel's file.
    assert.deepEqual(
      machine.calls.map((c) => [c.command, c.args[0] === '-c' ? (c.args[1].includes('version_info') ? 'probe' : 'check') : c.args.slice(0, 3).join(' ')]),
      [
        ['/missing/python', 'probe'],
        ['/usr/bin/python3', 'probe'],
        ['/usr/bin/python3.11', 'probe'],
        ['/real/usr/bin/python3.11', '-m venv ' + path.join(root(), record.dir)],
        [env.python, '-m pip install'],
        [env.python, 'check'],
      ],
    );
    assert.equal(machine.calls[4].args[machine.calls[4].args.length - 1], wheel);
    assert.ok(progress.some((m) => /creating a virtual environment with Python 3\.11\.9/.test(m)));
    assert.ok(progress.includes('installing flashpro 0.1.0: pygls==2.1.1…'));
    assert.ok(logged.some((l) => l.includes('/usr/bin/python3 (python3 on PATH) is Python 3.10.12')));
    assert.equal(fs.existsSync(path.join(root(), LOCK_DIR)), false);
  });

  it('reuses the environment on later starts without running anything', async () => {
    bundle();
    machine.interpreters.set(PY311.command, [3, 11, 9]);
    const first = await ensureEnvironment(options([PY311]));
    const calls = machine.calls.length;
    progress = [];
    const again = await ensureEnvironment(options([PY311]));
    assert.deepEqual(again, { ...first, created: false });
    assert.equal(machine.calls.length, calls);
    assert.deepEqual(progress, []); // nothing to show: no notification opens
  });

  it('rebuilds when the bundled wheel changes, then removes the old environment', async () => {
    bundle('0.1.0', 'old');
    machine.interpreters.set(PY311.command, [3, 11, 9]);
    const old = await ensureEnvironment(options([PY311]));
    const oldDir = readRecord(root())!.dir;
    bundle('0.2.0', 'new');
    machine.pipOutput = { code: 0, lines: [] };
    const fresh = await ensureEnvironment(options([PY311]));
    const record = readRecord(root())!;
    assert.equal(fresh.created, true);
    assert.notEqual(record.dir, oldDir);
    assert.equal(record.wheel, 'flashpro_lsp-0.2.0-py3-none-any.whl');
    assert.notEqual(fresh.python, old.python);
    assert.equal(fs.existsSync(path.join(root(), oldDir)), false);
  });

  it('rebuilds the same wheel when the environment lost its Python', async () => {
    bundle();
    machine.interpreters.set(PY311.command, [3, 11, 9]);
    const first = await ensureEnvironment(options([PY311]));
    fs.rmSync(first.python);
    const again = await ensureEnvironment(options([PY311]));
    assert.equal(again.created, true);
    assert.ok(fs.existsSync(again.python));
  });
});

describe('ensureEnvironment: what goes wrong', () => {
  async function failure(promise: Promise<unknown>): Promise<SetupError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof SetupError, String(error));
      return error;
    }
    assert.fail('no SetupError');
  }

  it('says which Pythons it found when none is recent enough', async () => {
    bundle();
    machine.interpreters.set('/usr/bin/python3', [3, 9, 2]);
    const error = await failure(
      ensureEnvironment(options([{ command: '/usr/bin/python3', origin: 'python3 on PATH' }, { command: '/opt/none', origin: 'python on PATH' }])),
    );
    assert.equal(error.problem, 'no-python');
    assert.match(error.message, /needs Python 3\.11 or newer/);
    assert.match(error.message, /found only \/usr\/bin\/python3 is 3\.9\.2 \(python3 on PATH\)/);
    assert.match(error.message, /flashpro\.server\.command/);
    assert.equal(machine.calls.filter((c) => c.args[1] === 'venv').length, 0);
    assert.equal(readRecord(root()), undefined);
  });

  it('says there is no Python at all', async () => {
    bundle();
    const error = await failure(ensureEnvironment(options([])));
    assert.equal(error.problem, 'no-python');
    assert.match(error.message, /found none \(no python3 on PATH\)/);
  });

  it('says the build carries no server when the wheel is missing', async () => {
    const error = await failure(ensureEnvironment(options([PY311])));
    assert.equal(error.problem, 'no-wheel');
    assert.match(error.message, /npm run package/);
    assert.deepEqual(machine.calls, []);
  });

  it('names the Debian package when venv lacks ensurepip', async () => {
    bundle();
    machine.interpreters.set(PY311.command, [3, 11, 2]);
    machine.venvOutput = {
      code: 1,
      lines: ['The virtual environment was not successfully created because ensurepip is not', 'available.  On Debian/Ubuntu systems, you need to install the python3-venv', 'package using the following command.'],
    };
    const error = await failure(ensureEnvironment(options([PY311])));
    assert.equal(error.problem, 'venv');
    assert.match(error.message, /install the python3-venv package/);
    assert.equal(fs.readdirSync(root()).filter((n) => n.startsWith('env-')).length, 0);
  });

  it("quotes pip's error, keeps nothing half-built, and tries again on the next start", async () => {
    bundle();
    machine.interpreters.set(PY311.command, [3, 11, 9]);
    machine.pipOutput = {
      code: 1,
      lines: ['Collecting pygls==2.1.1', "ERROR: Could not find a version that satisfies the requirement pygls==2.1.1 (from flashpro-lsp)", 'ERROR: No matching distribution found for pygls==2.1.1'],
    };
    const error = await failure(ensureEnvironment(options([PY311])));
    assert.equal(error.problem, 'pip');
    assert.match(error.message, /pip exited with code 1: ERROR: No matching distribution found for pygls==2\.1\.1/);
    assert.match(error.message, /network connection to PyPI/);
    assert.equal(readRecord(root()), undefined);
    assert.equal(fs.readdirSync(root()).filter((n) => n.startsWith('env-')).length, 0);
    assert.equal(fs.existsSync(path.join(root(), LOCK_DIR)), false);

    machine.pipOutput = { code: 0, lines: [] };
    const env = await ensureEnvironment(options([PY311]));
    assert.equal(env.created, true);
  });

  it('refuses an environment where flashpro does not import after pip', async () => {
    bundle();
    machine.interpreters.set(PY311.command, [3, 11, 9]);
    const spawn: Spawner = async (command, args, opts) => {
      const result = await machine.spawn(command, args, opts);
      if (args.slice(0, 3).join(' ') === '-m pip install') {
        machine.installed.delete(command);
      }
      return result;
    };
    const error = await failure(ensureEnvironment(options([PY311], { spawn })));
    assert.equal(error.problem, 'pip');
    assert.match(error.message, /flashpro does not import: ModuleNotFoundError/);
    assert.equal(readRecord(root()), undefined);
  });
});

describe('ensureEnvironment: two windows', () => {
  it('waits while another window builds, then uses what it built', async () => {
    bundle();
    machine.interpreters.set(PY311.command, [3, 11, 9]);
    // The other window: builds through its own ensureEnvironment, lock taken by hand first.
    fs.mkdirSync(path.join(root(), LOCK_DIR), { recursive: true });
    let waits = 0;
    const other = new FakeMachine();
    other.interpreters.set(PY311.command, [3, 11, 9]);
    const env = await ensureEnvironment(
      options([PY311], {
        now: () => new Date(),
        sleep: async () => {
          waits += 1;
          fs.rmSync(path.join(root(), LOCK_DIR), { recursive: true });
          await ensureEnvironment(options([PY311], { spawn: other.spawn }));
        },
      }),
    );
    assert.equal(waits, 1);
    assert.equal(env.created, false);
    assert.deepEqual(machine.calls, []); // this window ran nothing
    assert.ok(progress.includes('waiting for another window that is setting up the server…'));
  });

  it('takes over a lock left by a window that died long ago', async () => {
    bundle();
    machine.interpreters.set(PY311.command, [3, 11, 9]);
    fs.mkdirSync(path.join(root(), LOCK_DIR), { recursive: true });
    const env = await ensureEnvironment(
      options([PY311], {
        now: () => new Date(Date.now() + 60 * 60 * 1000),
        sleep: () => Promise.reject(new Error('should not wait')),
      }),
    );
    assert.equal(env.created, true);
    assert.ok(logged.some((l) => l.startsWith('removing a setup lock left')));
  });
});

describe('interpreters', () => {
  it("tries the Python extension's interpreter first, then the names on PATH", () => {
    const onPath = new Map([
      ['python3', '/usr/bin/python3'],
      ['python3.12', '/usr/local/bin/python3.12'],
    ]);
    assert.deepEqual(pythonCandidates('/work/.venv/bin/python', (name) => onPath.get(name), 'linux'), [
      { command: '/work/.venv/bin/python', origin: "the Python extension's interpreter" },
      { command: '/usr/bin/python3', args: [], origin: 'python3 on PATH' },
      { command: '/usr/local/bin/python3.12', args: [], origin: 'python3.12 on PATH' },
    ]);
    assert.deepEqual(pythonCandidates(undefined, () => undefined, 'linux'), []);
  });

  it('uses the py launcher on Windows', () => {
    const found = pythonCandidates(undefined, (name) => (name === 'py.exe' ? 'C:\\Windows\\py.exe' : undefined), 'win32');
    assert.deepEqual(found, [{ command: 'C:\\Windows\\py.exe', args: ['-3'], origin: 'py on PATH' }]);
    assert.equal(envPython('C:\\env', 'win32'), path.join('C:\\env', 'Scripts', 'python.exe'));
  });

  it('reads the probe and compares versions', () => {
    assert.deepEqual(parseProbe(['noise', '{"version": [3, 12, 1], "executable": "/usr/bin/python3.12"}']), {
      version: [3, 12, 1],
      executable: '/usr/bin/python3.12',
    });
    assert.equal(parseProbe(['{"version": "3.12"}']), undefined);
    assert.equal(recentEnough([3, 11, 0]), true);
    assert.equal(recentEnough([3, 10, 14]), false);
    assert.equal(recentEnough([4, 0, 0]), true);
  });

});
