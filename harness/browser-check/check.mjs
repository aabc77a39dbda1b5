// The browser check of the harness's HTML report (.ci/run): loads pages in
// Debian's Chromium through playwright-core and asserts what a reader
// relies on. It fails on any script error in a page.
//
//   node check.mjs --harness BIN --fake BIN --report FILE.html --json FILE.json --out DIR
//
// 1. The given report (a run's --html page, checked against the same run's
//    JSON report): the summary and the cause × SDK matrix render with the
//    JSON's counts, a filter (one SDK and one status) shows exactly the
//    JSON's cases, a matrix count lists its cases, free text finds one case,
//    and a failing cell opens its diff. Screenshots go to DIR.
// 2. A 20 000-case report, made here by a real run of a synthetic suite
//    against fake adapters (wrong answers, refused batches, reworded
//    details): it must render and filter within a generous bound; the
//    measured times are printed.
// 3. A fuzz run's summary.html: one row per finding, and a finding's cell
//    opens the minimized case. 4. A distribution page's chart.
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const name of ['harness', 'fake', 'report', 'json', 'out']) {
  if (!args[name]) throw new Error(`check.mjs: --${name} is required (see the comment at the top)`);
}
const out = resolve(args.out);
mkdirSync(out, { recursive: true });
const NOW = '2026-01-01T00:00:00Z';
// Generous: the point is that 20 000 cases stay usable, not a benchmark.
const BIG_LOAD_LIMIT_MS = 60000;
const BIG_FILTER_LIMIT_MS = 15000;

function assert(condition, message) {
  if (!condition) throw new Error('browser check: ' + message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // CI runs as root, where Chromium's sandbox cannot start.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

// A page that fails the check on any script error or console error.
async function open(file, viewport = { width: 1400, height: 1800 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  let failed;
  const failure = new Promise((resolve, reject) => { failed = reject; });
  failure.catch(() => {}); // read by the race below, or by check()
  page.on('pageerror', (error) => {
    errors.push('page error: ' + error.message);
    failed(new Error(`browser check: ${file}: page error: ${error.message}`));
  });
  page.on('console', (message) => { if (message.type() === 'error') errors.push('console error: ' + message.text()); });
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) errors.push('the page fetched ' + request.url() + ' (it must be self-contained)');
  });
  const started = Date.now();
  await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: 'load', timeout: 120000 });
  // A script error fails at once, not at the timeout.
  if (await page.locator('#ufc-data').count()) {
    await Promise.race([page.waitForSelector('body[data-ready="true"]', { timeout: 120000 }), failure]);
  }
  const loadMs = Date.now() - started;
  const check = () => assert(errors.length === 0, `${file}: ${errors.join('; ')}`);
  check();
  return { page, loadMs, check };
}

const matching = (page) => page.$eval('#count', (node) => Number(node.dataset.cases));

// Sets a filter control and waits for the list to follow; returns the time taken.
async function filter(page, name, value) {
  const before = await page.$eval('#count', (node) => node.textContent + '|' + node.dataset.renderMs);
  const started = Date.now();
  if (name === 'text') await page.fill('#filter-text', value);
  else await page.selectOption('#filter-' + name, value);
  await page.waitForFunction((b) => {
    const node = document.querySelector('#count');
    return node.textContent + '|' + node.dataset.renderMs !== b;
  }, before, { timeout: 120000 }).catch(() => {}); // an unchanged count is checked by the caller
  return Date.now() - started;
}

// ---- 1. the given report, against its JSON ----------------------------
async function checkReport() {
  const report = JSON.parse(readFileSync(args.json, 'utf8'));
  const { page, check } = await open(args.report);
  const names = await page.$$eval('#summary table tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
  assert(JSON.stringify(names) === JSON.stringify(report.parties.map((p) => p.name)), `summary rows ${names} are not the parties`);
  for (const party of report.parties) {
    const row = await page.$eval(`#summary table tbody tr:nth-child(${report.parties.indexOf(party) + 1})`, (tr) => Array.from(tr.cells).map((c) => c.textContent));
    assert(Number(row[3]) === party.summary.passed && Number(row[4]) === party.summary.knownFailures, `${party.name}: summary row ${row} against ${JSON.stringify(party.summary)}`);
  }
  assert(await page.locator('#summary svg rect').count() > 0, 'the pass-share chart has no bar');
  const caseIds = new Set(report.cases.map((c) => c.caseId));
  assert(await matching(page) === caseIds.size, `unfiltered, ${await matching(page)} cases match, the report has ${caseIds.size}`);

  // Every catalogued cause's matrix cell counts the JSON's cases.
  const buttons = await page.$$eval('#matrix button[data-cause]', (bs) => bs.map((b) => ({
    party: b.dataset.party, index: b.dataset.cause, cause: b.closest('tr').querySelector('th').textContent, count: Number(b.textContent),
  })));
  assert(buttons.length > 0, 'the matrix is empty');
  let compared = 0;
  for (const b of buttons) {
    const listed = report.cases.filter((c) => c.party === b.party && (c.causes || []).join(', ') === b.cause);
    if (!listed.length) continue; // uncatalogued rows are named by the harness
    assert(listed.length === b.count, `matrix ${b.cause} × ${b.party}: ${b.count}, the JSON has ${listed.length}`);
    compared++;
  }
  console.log(`report: ${names.length} parties, ${caseIds.size} cases, ${buttons.length} matrix cells (${compared} compared with the JSON)`);
  await page.screenshot({ path: join(out, 'report.png') });

  // One SDK and one status: exactly the JSON's cases, one column, that status.
  const bad = (c) => c.status !== 'passed' && c.status !== 'skipped';
  const sdks = report.parties.filter((p) => report.cases.some((c) => c.party === p.name && bad(c)));
  assert(sdks.length > 0, 'the report has no failing or known-failing case to filter for');
  const sdk = sdks.sort((a, b) => report.cases.filter((c) => c.party === b.name && bad(c)).length - report.cases.filter((c) => c.party === a.name && bad(c)).length)[0].name;
  const status = report.cases.some((c) => c.party === sdk && c.status === 'failed') ? 'failed' : 'known-failure';
  const expected = report.cases.filter((c) => c.party === sdk && c.status === status);
  await filter(page, 'sdk', sdk);
  await filter(page, 'status', status);
  check();
  const shown = await matching(page);
  assert(shown === expected.length, `sdk ${sdk} status ${status}: ${shown} cases match, the JSON has ${expected.length}`);
  assert(shown < caseIds.size, 'the filter changed nothing');
  const rendered = await page.$$eval('tr.case', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td.cell')).map((td) => td.className)));
  // The page builds the first 25 groups (in suite order, all of one rank
  // here), 50 rows of each: exactly these rows, no more.
  const groupOf = (id) => (id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : id);
  const perGroup = new Map();
  for (const c of expected) perGroup.set(groupOf(c.caseId), (perGroup.get(groupOf(c.caseId)) || 0) + 1);
  const order = [...new Set(report.cases.map((c) => groupOf(c.caseId)))].filter((g) => perGroup.has(g)).slice(0, 25);
  const built = order.reduce((n, g) => n + Math.min(50, perGroup.get(g)), 0);
  assert(rendered.length === built, `${rendered.length} rows built, expected ${built}`);
  assert(rendered.every((cells) => cells.length === 1 && cells[0].includes(status)), `rows other than ${status} shown: ${JSON.stringify(rendered.slice(0, 3))}`);
  const headers = await page.$$eval('table.cases thead th', (ths) => Array.from(new Set(ths.map((th) => th.textContent))));
  assert(JSON.stringify(headers) === JSON.stringify(['case', sdk]), `columns ${headers}`);
  console.log(`filter sdk=${sdk} status=${status}: ${shown} cases (the JSON: ${expected.length}), ${rendered.length} rows rendered`);

  // The first row's cell opens its diff, naming the JSON's first difference.
  const first = await page.$eval('tr.case', (tr) => tr.dataset.case);
  const jsonCase = expected.find((c) => c.caseId === first);
  assert(jsonCase, `the first row ${first} is not among the JSON's ${status} cases of ${sdk}`);
  await page.click('tr.case td.cell button.open');
  const diff = await page.textContent('tr.diff pre');
  const field = (jsonCase.differences[0] || {}).field;
  assert(diff.includes(field) && diff.includes('--- expected') && diff.includes('+++ actual'), `the diff of ${first} does not show ${field}: ${diff.slice(0, 300)}`);
  for (const cause of jsonCase.causes || []) {
    assert((await page.textContent('tr.diff')).includes(cause), `the diff of ${first} does not name its cause ${cause}`);
  }
  await page.screenshot({ path: join(out, 'report-diff.png') });
  console.log(`diff of ${first} (${sdk}) opened: ${field}, ${diff.split('\n').length} lines`);

  // A matrix count lists its cases; free text finds one case.
  const cell = buttons.find((b) => report.cases.some((c) => c.party === b.party && (c.causes || []).join(', ') === b.cause));
  if (cell) {
    await page.click(`#matrix button[data-party="${cell.party}"][data-cause="${cell.index}"]`);
    await page.waitForFunction((n) => Number(document.querySelector('#count').dataset.cases) === n, cell.count, { timeout: 30000 });
    console.log(`matrix ${cell.cause} × ${cell.party}: lists ${cell.count} cases`);
  }
  await filter(page, 'sdk', '');
  await filter(page, 'cause', '');
  await filter(page, 'status', '');
  await filter(page, 'text', first);
  const found = await matching(page);
  const exact = [...caseIds].filter((id) => id.toLowerCase().includes(first.toLowerCase())).length;
  assert(found >= exact && found >= 1, `text ${first}: ${found} cases, at least ${exact} expected`);
  check();
  await page.close();
}

// ---- 2. 20 000 cases ---------------------------------------------------
function syntheticSuite(dir, files, subjects) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'ufc', 'tests'), { recursive: true });
  const rule = { conditions: [{ attribute: 'country', operator: 'ONE_OF', value: ['US'] }] };
  const flag = (key, allocations, variations) => ({ key, enabled: true, variationType: 'STRING', variations, allocations, totalShards: 10000 });
  const variations = { red: { key: 'red', value: 'red' }, blue: { key: 'blue', value: 'blue' } };
  const half = (salt) => [{ variationKey: 'red', shards: [{ salt, ranges: [{ start: 0, end: 5000 }] }] }, { variationKey: 'blue', shards: [{ salt, ranges: [{ start: 5000, end: 10000 }] }] }];
  const config = {
    createdAt: '2024-01-01T00:00:00.000Z', format: 'SERVER', environment: { name: 'Synthetic' },
    flags: {
      'big-country': flag('big-country', [
        { key: 'us', rules: [rule], splits: [{ variationKey: 'red', shards: [] }], doLog: true },
        { key: 'rest', splits: [{ variationKey: 'blue', shards: [] }], doLog: true },
      ], variations),
      'big-split': flag('big-split', [{ key: 'half', splits: half('big-split'), doLog: true }], variations),
    },
  };
  writeFileSync(join(dir, 'ufc', 'flags-v1.json'), JSON.stringify(config));
  for (let f = 0; f < files; f++) {
    const list = [];
    for (let s = 0; s < subjects; s++) {
      const country = (f + s) % 3 === 0 ? 'US' : 'Canada';
      list.push({ subjectKey: `subject-${f}-${s}`, subjectAttributes: { country }, assignment: country === 'US' ? 'red' : 'blue' });
    }
    const test = { flag: 'big-country', variationType: 'STRING', defaultValue: 'default', subjects: list };
    writeFileSync(join(dir, 'ufc', 'tests', `test-big-${String(f).padStart(3, '0')}.json`), JSON.stringify(test));
  }
  return join(dir, 'ufc', 'flags-v1.json');
}

async function checkBig() {
  const files = 200;
  const perFile = 100;
  const suite = join(out, 'big-suite');
  const config = syntheticSuite(suite, files, perFile);
  const html = join(out, 'report-20k.html');
  const started = Date.now();
  const run = spawnSync(args.harness, [
    'run', '--suite', suite, '--now', NOW, '--format', 'json', '--html', html,
    '--adapter', `wrong=${args.fake} --wrong-answers`,
    '--adapter', `refusing=${args.fake} --refuse-after 150`,
    '--adapter', `reworded=${args.fake} --reworded`,
  ], { maxBuffer: 1 << 30, encoding: 'utf8' });
  // 3: the refused batches errored their cases.
  assert(run.status === 3, `the 20 000-case run exited ${run.status}: ${run.stderr.slice(-2000)}`);
  const report = JSON.parse(run.stdout);
  const ids = new Set(report.cases.map((c) => c.caseId));
  assert(ids.size === files * perFile, `the synthetic run has ${ids.size} cases`);
  console.log(`20 000-case run: ${report.cases.length} outcomes in ${Date.now() - started} ms`);

  const { page, loadMs, check } = await open(html);
  assert(await matching(page) === ids.size, `${await matching(page)} of ${ids.size} cases match unfiltered`);
  const rows = await page.locator('tr.case').count();
  assert(rows > 0 && rows <= 2000, `${rows} rows built at first: the list must render lazily`);
  const errored = report.cases.filter((c) => c.party === 'refusing' && c.status === 'errored').length;
  let ms = await filter(page, 'sdk', 'refusing');
  ms += await filter(page, 'status', 'errored');
  check();
  assert(await matching(page) === errored && errored > 0, `refusing errored: ${await matching(page)} match, the JSON has ${errored}`);
  const textMs = await filter(page, 'text', 'subject-199-42');
  assert(await matching(page) === 1, `free text subject-199-42: ${await matching(page)} cases`);
  await filter(page, 'text', '');
  await filter(page, 'sdk', 'wrong');
  await filter(page, 'status', 'failed');
  await page.click('tr.case td.cell button.open');
  assert((await page.textContent('tr.diff pre')).includes('-spoiled'), 'the wrong answer is not in its diff');
  check();
  const size = readFileSync(html).length;
  console.log(`20 000-case page (${(size / 1e6).toFixed(1)} MB, ${rows} rows built): loaded in ${loadMs} ms, ` +
    `filtered (SDK then status) in ${ms} ms, free text in ${textMs} ms`);
  assert(loadMs < BIG_LOAD_LIMIT_MS, `loading took ${loadMs} ms`);
  assert(ms < BIG_FILTER_LIMIT_MS && textMs < BIG_FILTER_LIMIT_MS, `filtering took ${ms} ms, free text ${textMs} ms`);
  await page.close();

  // 4. The distribution page of the synthetic 50/50 flag.
  const pageFile = join(out, 'distribution.html');
  const dist = spawnSync(args.harness, ['distribution', '--config', config, '--flag', 'big-split', '--subjects', '20000', '--now', NOW, '--format', 'html'], { encoding: 'utf8' });
  assert(dist.status === 0, `distribution exited ${dist.status}: ${dist.stderr}`);
  writeFileSync(pageFile, dist.stdout);
  const shares = await open(pageFile);
  const bars = await shares.page.locator('#shares svg rect').count();
  assert(bars === 4, `the distribution chart has ${bars} bars, expected observed and expected for red and blue`);
  assert((await shares.page.textContent('#verdict')).includes('consistent'), 'the distribution verdict is missing');
  shares.check();
  await shares.page.close();
  console.log('distribution page: observed and expected shares charted');
}

// ---- 3. a fuzz run's summary.html ---------------------------------------
async function checkFuzz() {
  const dir = join(out, 'fuzz-findings');
  rmSync(dir, { recursive: true, force: true });
  const fuzz = spawnSync(args.harness, ['fuzz', '--seed', '1', '--cases', '64', '--batch-size', '32', '--no-bandits', '--out', dir,
    '--adapter', `wrong=${args.fake} --wrong-answers`], { encoding: 'utf8' });
  assert(fuzz.status === 1, `fuzz exited ${fuzz.status}: ${fuzz.stderr.slice(-2000)}`);
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const { page, check } = await open(join(dir, 'summary.html'));
  assert(await matching(page) === summary.findings.length && summary.findings.length > 0, `${await matching(page)} rows for ${summary.findings.length} findings`);
  await page.click('tr.case td.cell button.open');
  const text = await page.textContent('tr.diff pre');
  assert(text.includes('minimized case:') && text.includes('configuration (flags-v1.json)') && text.includes('-spoiled'), `a finding's cell: ${text.slice(0, 300)}`);
  check();
  await page.screenshot({ path: join(out, 'fuzz.png') });
  await page.close();
  console.log(`fuzz summary page: ${summary.findings.length} findings, the minimized case opens`);
}

try {
  await checkReport();
  await checkFuzz();
  await checkBig();
  console.log('browser check: passed');
} finally {
  await browser.close();
}
