/**
 * The spend report as one self-contained HTML page: totals, tables by file, role, model and
 * day, and inline SVG bar charts of spend per file and per day. No script and no remote
 * resource: the page's CSP allows only its own nonce'd stylesheet.
 *
 * Input: the result of the server's `flashpro.report` command (`Report.to_dict()` in the
 * server's `ledger/aggregates.py`). Pure module (no `vscode` import): unit-tested in
 * test/report.test.ts.
 */

import { formatPercent, formatTokens, formatUsdPrecise } from './status';

/** Totals over a set of ledger rows (snake_case, as the server sends them). */
export interface ReportStats {
  calls: number;
  prompt_tokens: number;
  cache_hit_tokens: number;
  output_tokens: number;
  cost_usd: number;
  cache_hit_ratio: number | null;
  shown: number;
  accepted: number;
  partially_accepted: number;
  accepted_chars: number;
  wasted_usd: number;
  cancelled: number;
  errors: number;
  acceptance_rate: number | null;
  usd_per_1k_accepted_chars: number | null;
}

/** One group of the report (a file URI, model, role or UTC day; null = unknown). */
export interface ReportGroup extends ReportStats {
  key: string | null;
}

/** The report. */
export interface Report {
  generated_utc: string | null;
  since_utc: string | null;
  workspace: string[] | null;
  total: ReportStats;
  by_file: ReportGroup[];
  by_model: ReportGroup[];
  by_role: ReportGroup[];
  by_day: ReportGroup[];
}

/** How the page is rendered. */
export interface RenderOptions {
  /** Nonce of the page's stylesheet (fresh per render). */
  nonce: string;
  /** Workspace folder URIs: files under them are shown relative to them. */
  roots?: readonly string[];
  /** What period the report covers, e.g. "last 7 days". */
  period?: string;
  /** Bars in the per-file chart (the most expensive files). */
  maxFileBars?: number;
  /** Bars in the per-day chart (the latest days). */
  maxDayBars?: number;
  /** Links to other views of the report (command URIs), shown above it. */
  links?: readonly ReportLink[];
}

/** A link to another view of the report; `current` marks the one shown. */
export interface ReportLink {
  label: string;
  href: string;
  current?: boolean;
}

const STAT_KEYS: readonly (keyof ReportStats)[] = [
  'calls', 'prompt_tokens', 'cache_hit_tokens', 'output_tokens', 'cost_usd', 'shown', 'accepted',
  'partially_accepted', 'accepted_chars', 'wasted_usd', 'cancelled', 'errors',
];
const NULLABLE_KEYS: readonly (keyof ReportStats)[] = [
  'cache_hit_ratio', 'acceptance_rate', 'usd_per_1k_accepted_chars',
];

function record(raw: unknown): Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function parseStats(raw: unknown): ReportStats {
  const o = record(raw);
  const stats: Record<string, number | null> = {};
  for (const key of STAT_KEYS) {
    stats[key] = finite(o[key]) ?? 0;
  }
  for (const key of NULLABLE_KEYS) {
    stats[key] = finite(o[key]);
  }
  return stats as unknown as ReportStats;
}

function parseGroups(raw: unknown): ReportGroup[] {
  return Array.isArray(raw)
    ? raw.map((item) => ({ ...parseStats(item), key: typeof record(item).key === 'string' ? (record(item).key as string) : null }))
    : [];
}

/** Reads the command's untyped result; anything missing reads as zero / empty. */
export function parseReport(raw: unknown): Report {
  const o = record(raw);
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return {
    generated_utc: text(o.generated_utc),
    since_utc: text(o.since_utc),
    workspace: Array.isArray(o.workspace) ? o.workspace.filter((w): w is string => typeof w === 'string') : null,
    total: parseStats(o.total),
    by_file: parseGroups(o.by_file),
    by_model: parseGroups(o.by_model),
    by_role: parseGroups(o.by_role),
    by_day: parseGroups(o.by_day),
  };
}

/** `text` safe inside HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A file URI as shown: relative to the first workspace root that holds it, else its path. */
export function displayFile(uri: string | null, roots: readonly string[] = []): string {
  if (uri === null) {
    return '(unknown)';
  }
  for (const root of roots) {
    const base = root.endsWith('/') ? root : `${root}/`;
    if (uri.startsWith(base)) {
      return safeDecode(uri.slice(base.length));
    }
  }
  return uri.startsWith('file://') ? safeDecode(uri.slice('file://'.length)) : uri;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Acceptance as `accepted / shown (rate)`. */
function acceptance(stats: ReportStats): string {
  const accepted = stats.accepted + stats.partially_accepted;
  return stats.shown > 0 ? `${accepted} / ${stats.shown} (${formatPercent(stats.acceptance_rate)})` : '—';
}

const COLUMNS = ['Calls', 'Tokens', 'Cache hit', 'Cost', 'Accepted', '$ / 1k accepted chars', 'Wasted'];

function statCells(stats: ReportStats): string[] {
  return [
    String(stats.calls),
    formatTokens(stats.prompt_tokens + stats.output_tokens),
    formatPercent(stats.cache_hit_ratio),
    formatUsdPrecise(stats.cost_usd),
    acceptance(stats),
    formatUsdPrecise(stats.usd_per_1k_accepted_chars),
    formatUsdPrecise(stats.wasted_usd),
  ];
}

function table(caption: string, first: string, groups: readonly ReportGroup[], label: (g: ReportGroup) => string): string {
  if (groups.length === 0) {
    return '';
  }
  const head = [first, ...COLUMNS].map((c, i) => `<th${i > 0 ? ' class="num"' : ''}>${escapeHtml(c)}</th>`).join('');
  const rows = groups
    .map((g) => {
      const cells = statCells(g).map((c) => `<td class="num">${escapeHtml(c)}</td>`).join('');
      return `<tr><td>${escapeHtml(label(g))}</td>${cells}</tr>`;
    })
    .join('\n');
  return `<section><h2>${escapeHtml(caption)}</h2>\n<table><thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody></table></section>`;
}

/** One bar of a chart. */
export interface Bar {
  label: string;
  value: number;
}

/** A horizontal bar chart as inline SVG (labels left, bars scaled to the largest value). */
export function horizontalBars(title: string, bars: readonly Bar[]): string {
  if (bars.length === 0) {
    return '';
  }
  const rowHeight = 22;
  const labelWidth = 260;
  const barWidth = 360;
  const width = labelWidth + barWidth + 110;
  const height = bars.length * rowHeight + 8;
  const max = Math.max(...bars.map((b) => b.value), 0) || 1;
  const rows = bars
    .map((bar, i) => {
      const y = 4 + i * rowHeight;
      const w = Math.max(bar.value > 0 ? 1 : 0, Math.round((bar.value / max) * barWidth));
      const label = bar.label.length > 40 ? `…${bar.label.slice(-39)}` : bar.label;
      return (
        `<text class="label" x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(label)}</text>` +
        `<rect class="bar" x="${labelWidth}" y="${y + 3}" width="${w}" height="${rowHeight - 6}"><title>${escapeHtml(`${bar.label}: ${formatUsdPrecise(bar.value)}`)}</title></rect>` +
        `<text class="value" x="${labelWidth + w + 6}" y="${y + 15}">${escapeHtml(formatUsdPrecise(bar.value))}</text>`
      );
    })
    .join('\n');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${rows}\n</svg></figure>`;
}

/** A vertical bar chart (one column per bar, labels below) as inline SVG. */
export function verticalBars(title: string, bars: readonly Bar[]): string {
  if (bars.length === 0) {
    return '';
  }
  const column = 44;
  const plot = 140;
  const top = 18;
  const width = Math.max(bars.length * column + 20, 200);
  const height = top + plot + 22;
  const max = Math.max(...bars.map((b) => b.value), 0) || 1;
  const cols = bars
    .map((bar, i) => {
      const x = 10 + i * column;
      const h = Math.max(bar.value > 0 ? 1 : 0, Math.round((bar.value / max) * plot));
      const y = top + plot - h;
      const label = /^\d{4}-\d{2}-\d{2}$/.test(bar.label) ? bar.label.slice(5) : bar.label.slice(0, 6);
      return (
        `<rect class="bar" x="${x + 6}" y="${y}" width="${column - 12}" height="${h}"><title>${escapeHtml(`${bar.label}: ${formatUsdPrecise(bar.value)}`)}</title></rect>` +
        `<text class="label" x="${x + column / 2}" y="${top + plot + 15}" text-anchor="middle">${escapeHtml(label)}</text>`
      );
    })
    .join('\n');
  const peak = `<text class="value" x="10" y="12">max ${escapeHtml(formatUsdPrecise(max))}</text>`;
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${peak}\n${cols}\n</svg></figure>`;
}

const STYLE = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 20px 20px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
.meta { color: var(--vscode-descriptionForeground); }
.totals { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid var(--vscode-panel-border, #8884); border-radius: 4px; padding: 8px 12px; min-width: 120px; }
.card .v { font-size: 1.3em; font-weight: 600; } .card .k { color: var(--vscode-descriptionForeground); font-size: 0.85em; }
table { border-collapse: collapse; margin-top: 4px; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--vscode-panel-border, #8884); text-align: left; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 12px 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
svg .bar { fill: var(--vscode-charts-blue, #3794ff); }
svg text { fill: var(--vscode-foreground); font-size: 11px; font-family: var(--vscode-font-family); }
svg .value { fill: var(--vscode-descriptionForeground); }
.links a, .links strong { margin-right: 12px; }
.empty { margin-top: 2em; color: var(--vscode-descriptionForeground); }
`;

/** The Content-Security-Policy of the page: nothing but its own stylesheet. */
export function contentSecurityPolicy(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; img-src data:;`;
}

function card(label: string, value: string): string {
  return `<div class="card"><div class="v">${escapeHtml(value)}</div><div class="k">${escapeHtml(label)}</div></div>`;
}

/** The whole report page. */
export function renderReportHtml(report: Report, options: RenderOptions): string {
  const roots = options.roots ?? [];
  const t = report.total;
  const meta = [
    options.period ? `Period: ${options.period}` : undefined,
    report.since_utc ? `since ${report.since_utc}` : undefined,
    report.workspace?.length ? `workspace ${report.workspace.join(', ')}` : 'all workspaces',
    report.generated_utc ? `generated ${report.generated_utc}` : undefined,
  ].filter((part): part is string => part !== undefined);
  const links = (options.links ?? [])
    .map((link) =>
      link.current
        ? `<strong>${escapeHtml(link.label)}</strong>`
        : `<a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a>`,
    )
    .join('\n');
  let body: string;
  if (t.calls === 0) {
    body = '<p class="empty">No model calls are recorded for this period yet.</p>';
  } else {
    const totals = [
      card('Cost', formatUsdPrecise(t.cost_usd)),
      card('Model calls', String(t.calls)),
      card('Tokens', formatTokens(t.prompt_tokens + t.output_tokens)),
      card('Prompt cache hit', formatPercent(t.cache_hit_ratio)),
      card('Accepted', acceptance(t)),
      card('$ / 1k accepted chars', formatUsdPrecise(t.usd_per_1k_accepted_chars)),
      card('Wasted', formatUsdPrecise(t.wasted_usd)),
    ].join('\n');
    const fileBars = [...report.by_file]
      .sort((a, b) => b.cost_usd - a.cost_usd)
      .slice(0, options.maxFileBars ?? 12)
      .map((g) => ({ label: displayFile(g.key, roots), value: g.cost_usd }));
    const dayBars = [...report.by_day]
      .sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''))
      .slice(-(options.maxDayBars ?? 31))
      .map((g) => ({ label: g.key ?? '(unknown)', value: g.cost_usd }));
    body = [
      `<div class="totals">\n${totals}\n</div>`,
      horizontalBars('Spend per file', fileBars),
      verticalBars('Spend per day (UTC)', dayBars),
      table('By file', 'File', report.by_file, (g) => displayFile(g.key, roots)),
      table('By role', 'Role', report.by_role, (g) => g.key ?? '(unknown)'),
      table('By model', 'Model', report.by_model, (g) => g.key ?? '(unknown)'),
      table('By day (UTC)', 'Day', report.by_day, (g) => g.key ?? '(unknown)'),
    ]
      .filter((part) => part !== '')
      .join('\n');
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(options.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>flashpro spend report</title>
<style nonce="${escapeHtml(options.nonce)}">${STYLE}</style>
</head>
<body>
<h1>flashpro spend report</h1>
<p class="meta">${escapeHtml(meta.join(' · '))}</p>
${links ? `<nav class="links">${links}</nav>\n` : ''}${body}
</body>
</html>
`;
}
