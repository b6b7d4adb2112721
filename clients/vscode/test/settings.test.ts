import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  answerConfiguration,
  bundledCommand,
  commandFromSetting,
  documentSelector,
  findOnPath,
  formatCommandLine,
  initializationOptions,
  needsInstruction,
  serverSection,
  withInstruction,
} from '../src/settings';

/** The `flashpro` section as VS Code returns it: server and client-only keys together. */
const SECTION = {
  baseUrl: 'http://127.0.0.1:9999',
  completion: { automatic: true, maxOutputTokens: 128 },
  budget: { dayUsd: null },
  actions: { review: { model: 'planner', thinking: true } },
  enabledLanguages: ['*'],
  server: { command: ['flashpro', 'lsp'] },
  trace: { server: 'verbose' },
};

describe('serverSection / initializationOptions', () => {
  it('drops client-only keys and injects the API key', () => {
    const options = initializationOptions(SECTION, 'sk-secret-123456');
    assert.deepEqual(options, {
      flashpro: {
        baseUrl: 'http://127.0.0.1:9999',
        completion: { automatic: true, maxOutputTokens: 128 },
        budget: { dayUsd: null },
        actions: { review: { model: 'planner', thinking: true } },
        apiKey: 'sk-secret-123456',
      },
    });
  });

  it('sends no apiKey when the secret store has none (env DEEPSEEK_API_KEY then applies)', () => {
    assert.equal('apiKey' in serverSection(SECTION, undefined), false);
    assert.equal('apiKey' in serverSection(SECTION, '   '), false);
  });

  it('does not modify the configuration object it is given', () => {
    const section = structuredClone(SECTION);
    serverSection(section, 'sk-secret-123456');
    assert.deepEqual(section, SECTION);
  });

  it('copies read-only proxies such as configuration values', () => {
    const frozen = new Proxy(
      { completion: Object.freeze({ automatic: false }) },
      { set: () => false, deleteProperty: () => false },
    );
    assert.deepEqual(serverSection(frozen, 'k-123'), { completion: { automatic: false }, apiKey: 'k-123' });
  });

  it('reads a missing or malformed section as empty', () => {
    assert.deepEqual(serverSection(undefined, undefined), {});
    assert.deepEqual(serverSection([1, 2], 'sk-abcdefgh'), { apiKey: 'sk-abcdefgh' });
  });
});

describe('answerConfiguration', () => {
  it('injects the key into the flashpro section and strips client keys', () => {
    const answer = answerConfiguration([{ section: 'flashpro' }, { section: 'editor' }], [SECTION, { tabSize: 4 }], 'sk-k1k1k1k1');
    assert.deepEqual(answer[0], serverSection(SECTION, 'sk-k1k1k1k1'));
    assert.deepEqual(answer[1], { tabSize: 4 });
  });

  it('handles a whole-configuration item (no section)', () => {
    const [whole] = answerConfiguration([{}], [{ flashpro: SECTION, editor: {} }], 'sk-k2k2k2k2') as [Record<string, unknown>];
    assert.deepEqual(whole.flashpro, serverSection(SECTION, 'sk-k2k2k2k2'));
    assert.deepEqual(whole.editor, {});
  });

  it('keeps a null section item (null) and nulls as they are', () => {
    assert.deepEqual(answerConfiguration([{ section: 'flashpro.completion' }], [null], 'sk-x'), [null]);
  });
});

describe('documentSelector', () => {
  it('selects every file for ["*"], an empty list or garbage', () => {
    const all = [{ scheme: 'file' }, { scheme: 'untitled' }];
    assert.deepEqual(documentSelector(['*']), all);
    assert.deepEqual(documentSelector([]), all);
    assert.deepEqual(documentSelector('python'), all);
    assert.deepEqual(documentSelector(['python', '*']), all);
  });

  it('selects the listed languages on disk and in unsaved buffers', () => {
    assert.deepEqual(documentSelector(['python', 'typescript', 'python', 3]), [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
      { scheme: 'file', language: 'typescript' },
      { scheme: 'untitled', language: 'typescript' },
    ]);
  });
});

describe('commandFromSetting', () => {
  it('uses the setting (command then arguments), expanding ${workspaceFolder} and ~', () => {
    const line = commandFromSetting(['${workspaceFolder}/.venv/bin/flashpro', 'lsp', '--log-level', 'DEBUG'], { workspaceFolder: '/w' });
    assert.deepEqual(line, { command: '/w/.venv/bin/flashpro', args: ['lsp', '--log-level', 'DEBUG'], source: 'setting' });
    assert.equal(commandFromSetting(['~/bin/flashpro'], { home: '/home/me' })?.command, '/home/me/bin/flashpro');
  });

  it('has no command when the setting is unset or malformed: the bundled server runs', () => {
    assert.equal(commandFromSetting(undefined, {}), undefined);
    assert.equal(commandFromSetting([], {}), undefined);
    assert.equal(commandFromSetting([''], {}), undefined);
    assert.equal(commandFromSetting(['flashpro', 3], {}), undefined);
    assert.deepEqual(bundledCommand('/storage/server/env-0123/bin/python'), {
      command: '/storage/server/env-0123/bin/python',
      args: ['-m', 'flashpro', 'lsp'],
      source: 'bundled',
    });
  });

  it('finds programs on PATH', () => {
    const env = { pathVariable: '/usr/local/bin::/opt/venv/bin', isExecutable: (f: string) => f === '/opt/venv/bin/flashpro', delimiter: ':' };
    assert.equal(findOnPath('flashpro', env), '/opt/venv/bin/flashpro');
    assert.equal(findOnPath('python3', env), undefined);
  });

  it('formats a command line for messages', () => {
    assert.equal(formatCommandLine({ command: '/a b/flashpro', args: ['lsp'] }), '"/a b/flashpro" lsp');
  });
});

describe('quick edit instruction', () => {
  it('is needed when the code action sends none', () => {
    const range = { start: { line: 1, character: 0 }, end: { line: 3, character: 4 } };
    assert.equal(needsInstruction([{ uri: 'file:///a.py', range }]), true);
    assert.equal(needsInstruction([{ uri: 'file:///a.py', range, instruction: ' ' }]), true);
    assert.equal(needsInstruction([{ uri: 'file:///a.py', range, instruction: 'add types' }]), false);
    assert.equal(needsInstruction([]), false);
    assert.deepEqual(withInstruction([{ uri: 'file:///a.py', range }], 'add types'), [
      { uri: 'file:///a.py', range, instruction: 'add types' },
    ]);
  });
});
