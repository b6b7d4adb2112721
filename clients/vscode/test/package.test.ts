import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { CLIENT_ONLY_KEYS, Command, SECTION, ServerCommand, Setting } from '../src/constants';

interface Manifest {
  contributes: {
    commands: { command: string; title: string }[];
    configuration: { id: string; properties: Record<string, unknown> }[];
  };
}

const MANIFEST = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as Manifest;

describe('package.json and constants.ts agree', () => {
  it('contributes exactly the extension commands', () => {
    const contributed = MANIFEST.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(contributed, Object.values(Command).sort());
  });

  it('never contributes a server command (vscode-languageclient registers those itself)', () => {
    const server = new Set<string>(Object.values(ServerCommand));
    assert.deepEqual(MANIFEST.contributes.commands.filter((c) => server.has(c.command)), []);
  });

  it('declares the client-only settings in the client category, and only there', () => {
    const client = MANIFEST.contributes.configuration.find((c) => c.id === `${SECTION}.client`);
    assert.ok(client);
    const topLevel = new Set(Object.keys(client.properties).map((key) => key.split('.')[1]));
    assert.deepEqual([...topLevel].sort(), [...CLIENT_ONLY_KEYS].sort());
    for (const key of [Setting.enabledLanguages, Setting.serverCommand]) {
      assert.ok(key in client.properties, key);
    }
    const elsewhere = MANIFEST.contributes.configuration
      .filter((c) => c !== client)
      .flatMap((c) => Object.keys(c.properties))
      .filter((key) => (CLIENT_ONLY_KEYS as readonly string[]).includes(key.split('.')[1]));
    assert.deepEqual(elsewhere, []);
  });

  it('declares the setting the toggle command flips', () => {
    const all = Object.assign({}, ...MANIFEST.contributes.configuration.map((c) => c.properties)) as Record<string, unknown>;
    assert.ok(Setting.completionAutomatic in all);
  });
});
