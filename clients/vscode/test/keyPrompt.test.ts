import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';

import { KeyPrompt } from '../src/keyPrompt';
import { parseStatus } from '../src/status';

const MISSING = 'flashpro: no DeepSeek API key is configured. Set the DEEPSEEK_API_KEY environment variable…';
const REJECTED = 'flashpro: DeepSeek rejected the API key (401: bad key). Check the API key…';

/** A fake notification area: what is open, and the dismiss callbacks the user could press. */
class FakeView {
  open: string[] = [];
  closed: string[] = [];
  dismissers = new Map<string, () => void>();

  readonly view = (text: string, dismissed: () => void) => {
    this.open.push(text);
    this.dismissers.set(text, () => {
      this.open = this.open.filter((t) => t !== text);
      dismissed();
    });
    return {
      close: () => {
        this.open = this.open.filter((t) => t !== text);
        this.closed.push(text);
      },
    };
  };
}

const paused = (by: string) => parseStatus({ state: 'paused', pausedBy: by, calls: 0 });
const idle = parseStatus({ state: 'idle', calls: 0 });

let fake: FakeView;
let prompt: KeyPrompt;

beforeEach(() => {
  fake = new FakeView();
  prompt = new KeyPrompt(fake.view);
});

describe('KeyPrompt', () => {
  it('shows a key message as the prompt (and nothing else is shown)', () => {
    assert.equal(prompt.serverMessage(MISSING), true);
    assert.equal(fake.open.length, 1);
    assert.match(fake.open[0], /^no DeepSeek API key.*\[Set API key\]\(command:flashpro\.setApiKey\)$/);
    assert.equal(prompt.shown, fake.open[0]);
  });

  it('leaves other messages to the usual notifications', () => {
    assert.equal(prompt.serverMessage('flashpro: DeepSeek rate limit (slow down)'), false);
    assert.deepEqual(fake.open, []);
  });

  it('stays while calls are paused for the key, and goes once they are not', () => {
    prompt.serverMessage(MISSING);
    prompt.status(paused('missing_key'));
    assert.equal(fake.open.length, 1);
    prompt.status(paused('rate_limited'));
    assert.deepEqual(fake.open, []);
    assert.equal(prompt.shown, undefined);
  });

  it('goes when a status says the server is idle (the key was set)', () => {
    prompt.serverMessage(REJECTED);
    prompt.status(paused('auth'));
    assert.equal(fake.open.length, 1);
    prompt.status(idle);
    assert.deepEqual(fake.open, []);
  });

  it('goes when the server stops (close), and a new message opens a new one', () => {
    prompt.serverMessage(MISSING);
    prompt.close();
    assert.deepEqual(fake.open, []);
    prompt.serverMessage(REJECTED);
    assert.equal(fake.open.length, 1);
    assert.match(fake.open[0], /^DeepSeek rejected the API key \(401: bad key\)/);
  });

  it('shows one prompt for a repeated message, and replaces it for a different one', () => {
    prompt.serverMessage(MISSING);
    prompt.serverMessage(MISSING);
    assert.equal(fake.open.length, 1);
    prompt.serverMessage(REJECTED);
    assert.equal(fake.open.length, 1);
    assert.equal(fake.closed.length, 1);
  });

  it('forgets a prompt the user dismissed', () => {
    prompt.serverMessage(MISSING);
    fake.dismissers.get(fake.open[0])!();
    assert.equal(prompt.shown, undefined);
    prompt.close(); // nothing left to close
    assert.deepEqual(fake.closed, []);
    prompt.serverMessage(MISSING); // said again (a new server): shown again
    assert.equal(fake.open.length, 1);
  });
});
