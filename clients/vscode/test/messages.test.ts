import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Command } from '../src/constants';
import { keepsStopping, keyProblem, keyPromptText, lensCommand, opensAsPreview, startFailure } from '../src/messages';

const MISSING =
  "flashpro: no DeepSeek API key is configured. Set the DEEPSEEK_API_KEY environment variable or the flashpro.apiKey setting (VS Code: run 'flashpro: Set DeepSeek API key'), then restart or change settings.";
const REJECTED = 'flashpro: DeepSeek rejected the API key (401: Authentication Fails). Check the API key (DEEPSEEK_API_KEY or flashpro.apiKey)';

describe('key messages', () => {
  it('recognises a missing and a rejected key, and nothing else', () => {
    assert.equal(keyProblem(MISSING), 'missing');
    assert.equal(keyProblem(REJECTED), 'rejected');
    assert.equal(keyProblem('flashpro: DeepSeek rate limit (slow down)'), undefined);
    assert.equal(keyProblem('flashpro review: 1 finding on lines 4-7'), undefined);
  });

  it('writes the prompt for VS Code, with a link to the Set API key command', () => {
    const link = `[Set API key](command:${Command.setApiKey})`;
    assert.equal(keyPromptText('missing', MISSING), `no DeepSeek API key: completions and actions are off. ${link}`);
    assert.equal(
      keyPromptText('rejected', REJECTED),
      `DeepSeek rejected the API key (401: Authentication Fails): calls are paused until the key changes. ${link}`,
    );
  });
});

describe('documents and lenses', () => {
  it('opens designs, explanations and task reviews as Markdown previews', () => {
    assert.equal(opensAsPreview('file:///home/me/project/.flashpro/designs/20260501-101010-main.py.md'), true);
    assert.equal(opensAsPreview('file:///c%3A/work/.flashpro/notes/20260501-main.py.md'), true);
    assert.equal(opensAsPreview('file:///home/me/project/.flashpro/tasks/3f9c2a7b1d04.md'), true);
    assert.equal(opensAsPreview('file:///home/me/project/.flashpro/designs/20260501-main.py.json'), false);
    assert.equal(opensAsPreview('file:///home/me/project/docs/design.md'), false);
    assert.equal(opensAsPreview('file:///home/me/project/tests/test_main.py'), false);
    assert.equal(opensAsPreview('https://example.com/.flashpro/designs/x.md'), false);
  });

  it("turns the spend lens's report command into the report panel", () => {
    assert.equal(lensCommand('flashpro.report'), Command.showReport);
    assert.equal(lensCommand('flashpro.review'), 'flashpro.review');
  });
});

describe('start failures', () => {
  const line = 'python3 -c "import sys; sys.exit(3)"';

  it('names the command and the exit code', () => {
    assert.equal(
      startFailure(line, { code: 3, signal: null }, []),
      'the language server exited while starting: `python3 -c "import sys; sys.exit(3)"` exited with code 3.',
    );
  });

  it("quotes the server's exception rather than the traceback's last frame", () => {
    const stderr = ['Traceback (most recent call last):', '  File "<frozen runpy>", line 198, in _run_module_as_main', "ModuleNotFoundError: No module named 'flashpro'"];
    assert.equal(
      startFailure('/usr/bin/python3 -m flashpro lsp', { code: 1, signal: null }, stderr),
      "the language server exited while starting: `/usr/bin/python3 -m flashpro lsp` exited with code 1 — ModuleNotFoundError: No module named 'flashpro'.",
    );
    assert.match(startFailure('x', { code: 2, signal: null }, ['usage: flashpro', 'flashpro: error: invalid choice']), /code 2 — flashpro: error: invalid choice\.$/);
  });

  it('says when the process was ended by a signal or could not run', () => {
    assert.match(startFailure('flashpro lsp', { code: null, signal: 'SIGKILL' }, []), /`flashpro lsp` was ended by SIGKILL\.$/);
    assert.match(
      startFailure('/nowhere/python -m flashpro lsp', { code: null, signal: null, error: 'spawn /nowhere/python ENOENT' }, []),
      /could not be run \(spawn \/nowhere\/python ENOENT\)\.$/,
    );
  });

  it('gives the start error when the process is still running', () => {
    assert.equal(
      startFailure('flashpro lsp', undefined, [], 'Pending response rejected since connection got disposed'),
      'the language server did not start: `flashpro lsp` failed: Pending response rejected since connection got disposed.',
    );
  });

  it('says how a server that keeps stopping last ended', () => {
    assert.equal(
      keepsStopping('flashpro lsp', 5, { code: 1, signal: null }),
      'the language server (`flashpro lsp`) stopped 5 times in 3 minutes, last exit code 1, and will not be restarted.',
    );
  });
});
