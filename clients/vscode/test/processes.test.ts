import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ServerProcess, pythonEnv, runProcess } from '../src/processes';

const NODE = process.execPath;

describe('runProcess', () => {
  it('collects stdout and stderr lines and the exit code', async () => {
    const seen: string[] = [];
    const result = await runProcess(NODE, ['-e', 'console.log("one"); console.error("two"); process.exit(4)'], {
      onLine: (line) => seen.push(line),
    });
    assert.equal(result.code, 4);
    assert.deepEqual([...result.output].sort(), ['one', 'two']);
    assert.deepEqual([...seen].sort(), ['one', 'two']);
  });

  it('reports a program that cannot run instead of throwing', async () => {
    const result = await runProcess('/nonexistent/python3', ['-c', 'pass']);
    assert.equal(result.code, null);
    assert.match(result.error ?? '', /ENOENT/);
  });

  it('stops a run that takes too long', async () => {
    const result = await runProcess(NODE, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 200 });
    assert.equal(result.code, null);
    assert.match(result.output.join('\n'), /stopped after/);
  });
});

describe('ServerProcess', () => {
  it('remembers the exit code and the last stderr lines', async () => {
    const server = new ServerProcess(NODE, ['-e', 'process.stderr.write("starting\\nModuleNotFoundError: nope\\n"); process.exit(3)'], {});
    const ending = await server.exited(10_000);
    assert.deepEqual(ending, { code: 3, signal: null });
    assert.deepEqual(server.exit, ending);
    // stderr may still be draining when 'exit' fires: wait for the stream to end.
    await new Promise((resolve) => (server.child.stderr!.readableEnded ? resolve(undefined) : server.child.stderr!.on('end', resolve)));
    assert.deepEqual(server.stderrLines(), ['starting', 'ModuleNotFoundError: nope']);
  });

  it('says a program could not be run', async () => {
    const server = new ServerProcess('/nonexistent/flashpro', ['lsp'], {});
    const ending = await server.exited(10_000);
    assert.equal(ending?.code, null);
    assert.match(ending?.error ?? '', /ENOENT/);
  });

  it('kills a server that does not exit after the grace period', async () => {
    const server = new ServerProcess(NODE, ['-e', 'setInterval(() => {}, 1000)'], {});
    assert.equal(await server.exited(50), undefined); // still running
    await server.stop(100);
    const ending = await server.exited(10_000); // a loaded machine may take longer than the grace
    assert.equal(ending?.signal, 'SIGTERM');
  });
});

describe('pythonEnv', () => {
  it('drops the variables that would redirect the private Python', () => {
    const env = pythonEnv({ PATH: '/usr/bin', PYTHONPATH: '/elsewhere', PYTHONHOME: '/other', HOME: '/home/me' });
    assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/home/me' });
  });
});
