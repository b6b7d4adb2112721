/**
 * The status bar's text, tooltip and colour from the server's `flashpro/status` notification.
 *
 * Pure module (no `vscode` import): unit-tested in test/status.test.ts. The glue in
 * statusBar.ts turns a `StatusView` into a `vscode.StatusBarItem`.
 */

/** Spending-cap stage (server: `flashpro.completion.budget.Stage`, lower-cased). */
export type BudgetStage = 'normal' | 'small_context' | 'manual_only' | 'no_pro' | 'stopped';

/** The `flashpro/status` payload (server: `Flashpro.status()` in app.py). */
export interface ServerStatus {
  sessionCostUsd: number;
  sessionTokens: number;
  promptTokens: number;
  cacheHitTokens: number;
  cacheHitRatio: number | null;
  calls: number;
  shown: number;
  accepted: number;
  wastedUsd: number;
  inFlight: number;
  state: 'idle' | 'busy' | 'paused';
  pausedBy: string | null;
  budget: BudgetStage;
}

/** Which theme colour the item's background takes. */
export type StatusBackground = 'warning' | 'error' | undefined;

/** What the status bar item shows. */
export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  background: StatusBackground;
}

/** How the budget stages read in the status bar. */
const BUDGET_LABELS: Record<BudgetStage, string> = {
  normal: 'normal',
  small_context: 'small context',
  manual_only: 'manual only',
  no_pro: 'no Pro',
  stopped: 'stopped',
};

const CLICK_HINT = 'Click for the spend report.';

/** A USD amount, short: `$0`, `<$0.001`, `$0.012`, `$1.234`, `$12.35`. */
export function formatUsd(value: number): string {
  if (!Number.isFinite(value) || value <= 0) {
    return '$0';
  }
  if (value < 0.001) {
    return '<$0.001';
  }
  return value < 10 ? `$${value.toFixed(3)}` : `$${value.toFixed(2)}`;
}

/** A USD amount with more digits, for tooltips and reports. */
export function formatUsdPrecise(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '—';
  }
  return value === 0 ? '$0' : `$${value.toFixed(value < 0.01 ? 6 : 4)}`;
}

/** A ratio 0..1 as a whole percentage (`91%`), or `—` when unknown. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) {
    return '—';
  }
  return `${Math.round(ratio * 100)}%`;
}

/** A token count, short: `950`, `12.3k`, `4.56M`. */
export function formatTokens(count: number): string {
  if (!Number.isFinite(count) || count < 1000) {
    return String(Math.max(0, Math.round(count || 0)));
  }
  if (count < 1_000_000) {
    return `${(count / 1000).toFixed(count < 10_000 ? 2 : 1)}k`;
  }
  return `${(count / 1_000_000).toFixed(2)}M`;
}

/** Reads an untyped notification payload; missing or mistyped fields get neutral values. */
export function parseStatus(raw: unknown): ServerStatus {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const num = (key: string): number => {
    const value = o[key];
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
  };
  const ratio = o.cacheHitRatio;
  const state = o.state === 'busy' || o.state === 'paused' ? o.state : 'idle';
  const budget = typeof o.budget === 'string' && o.budget in BUDGET_LABELS ? (o.budget as BudgetStage) : 'normal';
  return {
    sessionCostUsd: num('sessionCostUsd'),
    sessionTokens: num('sessionTokens'),
    promptTokens: num('promptTokens'),
    cacheHitTokens: num('cacheHitTokens'),
    cacheHitRatio: typeof ratio === 'number' && Number.isFinite(ratio) ? ratio : null,
    calls: num('calls'),
    shown: num('shown'),
    accepted: num('accepted'),
    wastedUsd: num('wastedUsd'),
    inFlight: num('inFlight'),
    state,
    pausedBy: typeof o.pausedBy === 'string' ? o.pausedBy : null,
    budget,
  };
}

/** Whether the server says calls are paused for want of an API key (the item then asks for one). */
export function needsKey(status: ServerStatus): boolean {
  return status.state === 'paused' && status.pausedBy === 'missing_key';
}

/** The status bar view of a status payload. */
export function formatStatus(status: ServerStatus): StatusView {
  if (needsKey(status)) {
    return formatServerState('no-key');
  }
  const busy = status.inFlight > 0 || status.state === 'busy';
  const icon = status.state === 'paused' ? '$(debug-pause)' : busy ? '$(sync~spin)' : '$(pulse)';
  const parts = [status.calls > 0 ? formatUsd(status.sessionCostUsd) : 'flashpro'];
  if (status.cacheHitRatio !== null) {
    parts.push(`${formatPercent(status.cacheHitRatio)} cached`);
  }
  if (status.state === 'paused') {
    parts.push(status.pausedBy ? `paused (${status.pausedBy})` : 'paused');
  }
  if (status.budget !== 'normal') {
    parts.push(`budget: ${BUDGET_LABELS[status.budget]}`);
  }
  const background: StatusBackground =
    status.budget === 'stopped' ? 'error' : status.budget !== 'normal' || status.state === 'paused' ? 'warning' : undefined;
  return { text: `${icon} ${parts.join(' · ')}`, tooltip: statusTooltip(status), background };
}

/** The tooltip: this session's figures as a Markdown table. */
export function statusTooltip(status: ServerStatus): string {
  const acceptance = status.shown > 0 ? formatPercent(status.accepted / status.shown) : '—';
  const state =
    status.state === 'paused' ? `paused${status.pausedBy ? ` (${status.pausedBy})` : ''}` : status.state;
  const rows: [string, string][] = [
    ['Spent this session', formatUsdPrecise(status.sessionCostUsd)],
    ['Tokens', `${formatTokens(status.sessionTokens)} (prompt ${formatTokens(status.promptTokens)})`],
    ['Prompt cache hits', `${formatTokens(status.cacheHitTokens)} tokens (${formatPercent(status.cacheHitRatio)})`],
    ['Model calls', String(status.calls)],
    ['Suggestions accepted', `${status.accepted} of ${status.shown} shown (${acceptance})`],
    ['Wasted', formatUsdPrecise(status.wastedUsd)],
    ['In flight', String(status.inFlight)],
    ['State', state],
    ['Budget', BUDGET_LABELS[status.budget]],
  ];
  const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
  return `**flashpro** — DeepSeek spend\n\n${table}\n\n${CLICK_HINT}`;
}

/** The view before the first notification (waiting for a file, starting, ready) or when not running. */
export function formatServerState(
  state: 'waiting' | 'starting' | 'ready' | 'no-key' | 'stopped',
  detail?: string,
): StatusView {
  if (state === 'no-key') {
    return {
      text: '$(key) flashpro: set API key',
      tooltip: '**flashpro** — no DeepSeek API key: completions and actions are off.\n\nClick to run *flashpro: Set DeepSeek API key*.',
      background: 'warning',
    };
  }
  if (state === 'ready') {
    return {
      text: '$(pulse) flashpro',
      tooltip: `**flashpro** — the language server is running; no model calls yet this session.\n\n${CLICK_HINT}`,
      background: undefined,
    };
  }
  if (state === 'waiting') {
    return {
      text: '$(pulse) flashpro',
      tooltip: '**flashpro** — the language server starts when you open a file of an enabled language (flashpro.enabledLanguages).',
      background: undefined,
    };
  }
  if (state === 'starting') {
    return {
      text: '$(sync~spin) flashpro',
      tooltip: `**flashpro** — ${detail ? `setting up the language server: ${detail}` : 'starting the language server…'}\n\nClick for the server log.`,
      background: undefined,
    };
  }
  return {
    text: '$(circle-slash) flashpro',
    tooltip: `**flashpro** — the language server is not running${detail ? `: ${detail}` : ''}.\n\nUse *flashpro: Restart Server* or *flashpro: Show Server Log*.`,
    background: 'error',
  };
}
