import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  formatPercent,
  formatServerState,
  formatStatus,
  formatTokens,
  formatUsd,
  needsKey,
  parseStatus,
  type ServerStatus,
} from '../src/status';

const IDLE: ServerStatus = {
  sessionCostUsd: 0.0123,
  sessionTokens: 52000,
  promptTokens: 50000,
  cacheHitTokens: 45500,
  cacheHitRatio: 0.91,
  calls: 12,
  shown: 10,
  accepted: 4,
  wastedUsd: 0.0021,
  inFlight: 0,
  state: 'idle',
  pausedBy: null,
  budget: 'normal',
};

describe('formatStatus', () => {
  it('shows cost and cache-hit rate when idle', () => {
    const view = formatStatus(IDLE);
    assert.equal(view.text, '$(pulse) $0.012 · 91% cached');
    assert.equal(view.background, undefined);
  });

  it('spins while requests are in flight or the server is busy', () => {
    assert.match(formatStatus({ ...IDLE, inFlight: 2 }).text, /^\$\(sync~spin\) /);
    assert.match(formatStatus({ ...IDLE, state: 'busy' }).text, /^\$\(sync~spin\) /);
  });

  it('asks for a key when the server is paused for want of one', () => {
    const status = { ...IDLE, state: 'paused' as const, pausedBy: 'missing_key' };
    assert.ok(needsKey(status));
    assert.match(formatStatus(status).text, /set API key/);
    assert.ok(!needsKey({ ...IDLE, state: 'paused' as const, pausedBy: 'auth' }));
  });

  it('warns when paused, naming the cause', () => {
    const view = formatStatus({ ...IDLE, state: 'paused', pausedBy: 'auth' });
    assert.equal(view.background, 'warning');
    assert.match(view.text, /paused \(auth\)/);
    assert.match(view.text, /^\$\(debug-pause\) /);
  });

  it('warns for a degraded budget and errors when stopped', () => {
    const small = formatStatus({ ...IDLE, budget: 'small_context' });
    assert.equal(small.background, 'warning');
    assert.match(small.text, /budget: small context$/);
    assert.equal(formatStatus({ ...IDLE, budget: 'manual_only' }).background, 'warning');
    assert.equal(formatStatus({ ...IDLE, budget: 'no_pro' }).background, 'warning');
    assert.equal(formatStatus({ ...IDLE, budget: 'stopped' }).background, 'error');
  });

  it('shows the name before the first call and no cache figure when unknown', () => {
    const view = formatStatus({ ...IDLE, calls: 0, sessionCostUsd: 0, cacheHitRatio: null });
    assert.equal(view.text, '$(pulse) flashpro');
  });

  it('puts the session figures in the tooltip', () => {
    const tooltip = formatStatus(IDLE).tooltip;
    assert.match(tooltip, /\| Spent this session \| \$0\.0123 \|/);
    assert.match(tooltip, /\| Suggestions accepted \| 4 of 10 shown \(40%\) \|/);
    assert.match(tooltip, /\| Prompt cache hits \| 45\.5k tokens \(91%\) \|/);
    assert.match(tooltip, /Click for the spend report/);
  });
});

describe('parseStatus', () => {
  it('reads a server payload', () => {
    assert.deepEqual(parseStatus({ ...IDLE }), IDLE);
  });

  it('survives missing and mistyped fields', () => {
    const status = parseStatus({ sessionCostUsd: 'x', state: 'weird', budget: 'unknown', cacheHitRatio: null });
    assert.equal(status.sessionCostUsd, 0);
    assert.equal(status.state, 'idle');
    assert.equal(status.budget, 'normal');
    assert.equal(status.cacheHitRatio, null);
    assert.equal(parseStatus(undefined).calls, 0);
  });
});

describe('number formats', () => {
  it('formats USD short', () => {
    assert.equal(formatUsd(0), '$0');
    assert.equal(formatUsd(0.0004), '<$0.001');
    assert.equal(formatUsd(0.0123), '$0.012');
    assert.equal(formatUsd(1.2345), '$1.234');
    assert.equal(formatUsd(12.345), '$12.35');
    assert.equal(formatUsd(Number.NaN), '$0');
  });

  it('formats tokens and percentages', () => {
    assert.equal(formatTokens(950), '950');
    assert.equal(formatTokens(1234), '1.23k');
    assert.equal(formatTokens(45500), '45.5k');
    assert.equal(formatTokens(4_560_000), '4.56M');
    assert.equal(formatPercent(0.914), '91%');
    assert.equal(formatPercent(null), '—');
  });
});

describe('formatServerState', () => {
  it('marks a stopped server with an error background', () => {
    const view = formatServerState('stopped', 'spawn flashpro ENOENT');
    assert.equal(view.background, 'error');
    assert.match(view.tooltip, /not running: spawn flashpro ENOENT/);
  });

  it('spins while starting and waits quietly for a file', () => {
    assert.match(formatServerState('starting').text, /sync~spin/);
    assert.equal(formatServerState('waiting').background, undefined);
    assert.equal(formatServerState('ready').text, '$(pulse) flashpro');
  });

  it('asks for a key when there is none', () => {
    const view = formatServerState('no-key');
    assert.equal(view.text, '$(key) flashpro: set API key');
    assert.equal(view.background, 'warning');
    assert.match(view.tooltip, /Set DeepSeek API key/);
  });
});
