import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MASK, redact, redactingChannel } from '../src/redact';

describe('redact', () => {
  it('masks the known key, also inside JSON text', () => {
    const key = 'my"secret\\key';
    const json = JSON.stringify({ initializationOptions: { flashpro: { apiKey: key } } });
    assert.equal(json.includes(key), false); // escaped inside JSON
    const out = redact(`${key} and ${json}`, [key]);
    assert.equal(out.includes('secret'), false);
    assert.ok(out.startsWith(`${MASK} and `));
  });

  it('masks anything shaped like a DeepSeek key', () => {
    assert.equal(redact('Authorization: Bearer sk-0123456789abcdef', []), `Authorization: Bearer sk-${MASK}`);
  });

  it('leaves ordinary text and short secrets alone', () => {
    assert.equal(redact('hello sk-1 world', ['ab', undefined]), 'hello sk-1 world');
  });
});

describe('redactingChannel', () => {
  it('masks every writing method and passes the rest through', () => {
    const lines: string[] = [];
    const channel = {
      name: 'flashpro',
      logLevel: 1,
      appendLine(text: string) {
        lines.push(`line:${text}`);
      },
      trace(text: string) {
        lines.push(`trace:${text}`);
      },
      info(text: string, ...rest: unknown[]) {
        lines.push(`info:${text}:${rest.length}`);
      },
      show() {
        lines.push(`show:${this.name}`);
      },
    };
    let key = 'topsecretvalue';
    const wrapped = redactingChannel(channel, () => [key]);
    wrapped.appendLine('key=topsecretvalue');
    wrapped.trace('{"apiKey":"topsecretvalue"}');
    wrapped.info('x topsecretvalue', 1, 2);
    key = 'othersecret';
    wrapped.appendLine('othersecret topsecretvalue');
    wrapped.show();
    assert.equal(wrapped.name, 'flashpro');
    assert.deepEqual(lines, [
      `line:key=${MASK}`,
      `trace:{"apiKey":"${MASK}"}`,
      `info:x ${MASK}:2`,
      `line:${MASK} topsecretvalue`,
      'show:flashpro',
    ]);
  });
});
