import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { implementArgument, isDesignDocument, previewHint } from '../src/implement';

const at = (line: number, character = 0) => ({ line, character });

describe('the argument of flashpro.implement', () => {
  it('sends the selected lines, or the line at the cursor', () => {
    const uri = 'file:///home/me/project/calc.py';
    assert.deepEqual(implementArgument(uri, '/home/me/project/calc.py', at(7, 4), at(7, 4)), { uri, lines: [7, 7] });
    assert.deepEqual(implementArgument(uri, '/home/me/project/calc.py', at(3, 2), at(5, 9)), { uri, lines: [3, 5] });
  });

  it('leaves out the line a selection ends at the start of (whole lines selected)', () => {
    const uri = 'file:///home/me/project/calc.py';
    assert.deepEqual(implementArgument(uri, '/home/me/project/calc.py', at(3), at(6)), { uri, lines: [3, 5] });
  });

  it('sends a design document as a design, by its path', () => {
    const uri = 'file:///home/me/project/.flashpro/designs/20260501-101010-main.py.md';
    const file = '/home/me/project/.flashpro/designs/20260501-101010-main.py.md';
    assert.deepEqual(implementArgument(uri, file, at(2), at(2)), { design: file });
  });

  it('knows design documents from other Markdown files', () => {
    assert.equal(isDesignDocument('file:///home/me/project/.flashpro/designs/20260501-main.py.md'), true);
    assert.equal(isDesignDocument('file:///home/me/project/.flashpro/designs/20260501-main.py.json'), false);
    assert.equal(isDesignDocument('file:///home/me/project/.flashpro/notes/20260501-main.py.md'), false);
    assert.equal(isDesignDocument('file:///home/me/project/docs/design.md'), false);
    assert.equal(isDesignDocument('untitled:Untitled-1'), false);
  });
});

describe('the hint that comes with a change to confirm', () => {
  it('says to tick the changes, which the Refactor Preview leaves unticked', () => {
    const edit = {
      changeAnnotations: {
        n1: { label: 'Write sub(a, b)', needsConfirmation: true },
        n2: { label: 'Test sub(a, b)', needsConfirmation: true },
      },
    };
    assert.equal(
      previewHint(edit),
      'flashpro: tick the changes in the Refactor Preview, then Apply (VS Code leaves all 2 steps of the plan unticked).',
    );
    assert.equal(
      previewHint({ changeAnnotations: { n1: { label: 'Write sub', needsConfirmation: true } } }),
      'flashpro: tick the change in the Refactor Preview, then Apply (VS Code leaves it unticked).',
    );
  });

  it('stays quiet for edits VS Code applies at once', () => {
    assert.equal(previewHint({}), undefined);
    assert.equal(previewHint({ changeAnnotations: { n1: { label: 'Write sub', needsConfirmation: false } } }), undefined);
    assert.equal(previewHint({ changeAnnotations: { n1: { label: 'Write sub' } } }), undefined);
  });
});
