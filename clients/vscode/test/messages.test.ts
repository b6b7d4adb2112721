import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SET_KEY_BUTTON, messageButtons } from '../src/messages';

describe('server messages', () => {
  it('offers to set the key when none is configured or it was rejected', () => {
    assert.deepEqual(
      messageButtons('flashpro: no DeepSeek API key is configured. Set the DEEPSEEK_API_KEY environment variable'),
      [SET_KEY_BUTTON],
    );
    assert.deepEqual(messageButtons('flashpro: DeepSeek rejected the API key (401: bad key). Check it'), [SET_KEY_BUTTON]);
  });

  it('adds nothing to other messages', () => {
    assert.deepEqual(messageButtons('flashpro: DeepSeek rate limit (slow down)'), []);
    assert.deepEqual(messageButtons('flashpro review: 1 finding on lines 4-7'), []);
  });
});
