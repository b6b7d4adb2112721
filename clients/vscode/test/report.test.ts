import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  contentSecurityPolicy,
  displayFile,
  escapeHtml,
  horizontalBars,
  parseReport,
  renderReportHtml,
  verticalBars,
} from '../src/report';

/** A `Report.to_dict()` made by the server's own classes (see fixtures/report.json). */
const RAW: unknown = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'report.json'), 'utf8'));

describe('parseReport', () => {
  it('reads the server report', () => {
    const report = parseReport(RAW);
    assert.equal(report.total.calls, 43);
    assert.equal(report.by_file.length, 2);
    assert.equal(report.by_role[0].key, 'planner');
    assert.equal(report.by_day[1].key, '2026-11-23');
    assert.deepEqual(report.workspace, ['/home/me/proj']);
  });

  it('reads garbage as an empty report', () => {
    const report = parseReport('nope');
    assert.equal(report.total.calls, 0);
    assert.deepEqual(report.by_file, []);
    assert.equal(report.total.cache_hit_ratio, null);
  });
});

describe('renderReportHtml', () => {
  const html = renderReportHtml(parseReport(RAW), {
    nonce: 'abc123',
    roots: ['file:///home/me/proj'],
    period: 'all time, this workspace',
    links: [
      { label: 'last 7 days', href: 'command:flashpro.showReport?%5B%7B%22since%22%3A%227d%22%7D%5D' },
      { label: 'all time', href: 'command:x', current: true },
    ],
  });

  it('is CSP-safe: nonce stylesheet, no script, no remote resource', () => {
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;nonce-abc123&#39;; img-src data:;">/);
    assert.match(html, /<style nonce="abc123">/);
    assert.equal(/<script/i.test(html), false);
    assert.equal(/(src|href)="(https?:)?\/\//i.test(html), false);
    assert.equal(/ style="/.test(html), false, 'inline style attributes would need unsafe-inline');
  });

  it('shows totals and one table per grouping', () => {
    assert.match(html, /<div class="v">\$0\.0353<\/div><div class="k">Cost<\/div>/);
    assert.match(html, /<div class="v">13 \/ 30 \(43%\)<\/div><div class="k">Accepted<\/div>/);
    for (const heading of ['By file', 'By role', 'By model', 'By day (UTC)']) {
      assert.match(html, new RegExp(`<h2>${heading.replace(/[()]/g, '\\$&')}</h2>`));
    }
    assert.match(html, /<td>executor<\/td>/);
    assert.match(html, /<td>planner<\/td>/);
    assert.match(html, /<td>2026-11-22<\/td>/);
  });

  it('shows files relative to the workspace, decoded and escaped', () => {
    assert.match(html, /<td>app\/main\.py<\/td>/);
    assert.match(html, /<td>src\/a b&lt;x&gt;\.py<\/td>/);
    assert.equal(html.includes('<x>'), false);
  });

  it('draws spend per file and per day as inline SVG bars', () => {
    assert.match(html, /<figcaption>Spend per file<\/figcaption><svg role="img"/);
    assert.match(html, /<figcaption>Spend per day \(UTC\)<\/figcaption><svg role="img"/);
    assert.equal((html.match(/<rect class="bar"/g) ?? []).length, 4);
  });

  it('links to other periods, marking the current one', () => {
    assert.match(html, /<a href="command:flashpro\.showReport\?%5B%7B%22since%22%3A%227d%22%7D%5D">last 7 days<\/a>/);
    assert.match(html, /<strong>all time<\/strong>/);
  });

  it('says so when nothing was recorded', () => {
    const empty = renderReportHtml(parseReport({}), { nonce: 'n' });
    assert.match(empty, /No model calls are recorded/);
    assert.equal(empty.includes('<svg'), false);
  });
});

describe('chart and text helpers', () => {
  it('scales bars to the largest value', () => {
    const svg = horizontalBars('t', [
      { label: 'a', value: 2 },
      { label: 'b', value: 1 },
      { label: 'c', value: 0 },
    ]);
    assert.match(svg, /<rect class="bar" x="260" y="7" width="360"/);
    assert.match(svg, /<rect class="bar" x="260" y="29" width="180"/);
    assert.match(svg, /<rect class="bar" x="260" y="51" width="0"/);
    assert.equal(horizontalBars('t', []), '');
    const days = verticalBars('d', [{ label: '2026-11-22', value: 1 }, { label: '2026-11-23', value: 0.5 }]);
    assert.match(days, /<rect class="bar" x="16" y="18" width="32" height="140">/);
    assert.match(days, /<rect class="bar" x="60" y="88" width="32" height="70">/);
    assert.match(days, />11-23<\/text>/);
    assert.match(days, /<title>2026-11-23: \$0\.5000<\/title>/);
  });

  it('escapes HTML and shows paths', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(displayFile('file:///elsewhere/x%20y.py', ['file:///home/me/proj']), '/elsewhere/x y.py');
    assert.equal(displayFile(null), '(unknown)');
    assert.equal(displayFile('untitled:Untitled-1'), 'untitled:Untitled-1');
    assert.equal(contentSecurityPolicy('n'), "default-src 'none'; style-src 'nonce-n'; img-src data:;");
  });
});
