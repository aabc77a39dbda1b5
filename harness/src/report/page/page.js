// The case list of the report page: reads the JSON the harness embedded
// (harness/src/report/page/mod.rs, `CaseList`), and renders it grouped,
// failures first, passes collapsed, filtered by SDK, status, cause,
// severity and free text. Only what is in view is built: a group's rows
// exist once it is open, and groups and rows come a page at a time, so a
// report of 20 000 cases stays responsive. Data goes into the page through
// textContent only, never as markup.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('ufc-data').textContent);
  const parties = data.parties;
  const causes = data.causes;
  const rows = data.cases;

  // Lower ranks sort first and are what a reader looks for.
  const RANK = { errored: 0, failed: 1, 'unexpected-pass': 2, nondeterministic: 3, 'known-failure': 4, passed: 6, skipped: 7 };
  const LAST_FAILING = 4; // ranks up to this one are not passes
  const LABEL = {
    passed: 'passed', failed: 'FAILED', errored: 'ERRORED', skipped: 'skipped', 'known-failure': 'known',
    'unexpected-pass': 'stale entry', nondeterministic: 'nondeterministic', minor: 'passed'
  };
  const STATUSES = ['failed', 'errored', 'unexpected-pass', 'nondeterministic', 'known-failure', 'passed', 'skipped'];
  const GROUPS_PER_PAGE = 25;
  const ROWS_PER_PAGE = 50;

  const rankOf = (cell) => (!cell ? 9 : cell.s === 'passed' && cell.v ? 5 : RANK[cell.s]);
  const kindOf = (cell) => (cell.s === 'passed' && cell.v ? 'minor' : cell.s);

  const state = { sdk: '', status: '', cause: '', severity: '', text: '' };
  const opened = new Map(); // group index -> open, as the reader left it
  const passesShown = new Set(); // groups whose passes the reader opened
  const limits = new Map(); // `${group}:${part}` -> rows shown
  let groupLimit = GROUPS_PER_PAGE;
  let lowered = null; // per row, per party: lower-case searchable text

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // ---- filters -------------------------------------------------------
  const controls = {};
  function select(name, label, options) {
    const node = el('select', { id: 'filter-' + name, 'aria-label': label, onchange: () => set(name, node.value) },
      options.map(([value, text]) => el('option', { value: value, text: text })));
    controls[name] = node;
    return el('label', {}, [label + ' ', node]);
  }
  const causeOrder = causes.map((c, i) => i).sort((a, b) => causes[a].name.localeCompare(causes[b].name));
  const filters = document.getElementById('filters');
  const text = el('input', { id: 'filter-text', type: 'search', placeholder: 'case id, cause or diff text', 'aria-label': 'free text' });
  controls.text = text;
  let typing = null;
  text.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => set('text', text.value), 150);
  });
  const count = el('span', { id: 'count', 'aria-live': 'polite' });
  filters.append(
    select('sdk', 'SDK', [['', 'all']].concat(parties.map((p) => [p, p]))),
    select('status', 'status', [['', 'any'], ['failing', 'not passing']].concat(STATUSES.map((s) => [s, s]), [['minor', 'passed with minor differences']])),
    select('cause', 'cause', [['', 'any']].concat(causeOrder.map((i) => [String(i), causes[i].name]))),
    select('severity', 'severity', [['', 'any'], ['critical', 'critical'], ['major', 'major'], ['minor', 'minor']]),
    el('label', {}, ['text ', text]),
    el('button', { type: 'button', id: 'filter-reset', text: 'reset', onclick: () => apply({}) }),
    count
  );

  function set(name, value) {
    state[name] = value;
    refresh();
  }

  function apply(next) {
    for (const key of Object.keys(state)) state[key] = next[key] || '';
    for (const [key, node] of Object.entries(controls)) {
      node.value = state[key];
      state[key] = node.value; // a value no option has (a stale link) reads as "any"
    }
    refresh();
  }

  function refresh() {
    groupLimit = GROUPS_PER_PAGE;
    limits.clear();
    writeHash();
    render();
  }

  // The filter lives in the address, so a filtered view can be linked.
  function writeHash() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(state)) {
      if (value) params.set(key, key === 'cause' ? causes[+value].name : value);
    }
    const hash = params.toString();
    history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const next = {};
    for (const key of Object.keys(state)) {
      const value = params.get(key);
      if (!value) continue;
      if (key === 'cause') {
        const index = causes.findIndex((c) => c.name === value);
        if (index >= 0) next.cause = String(index);
      } else {
        next[key] = value;
      }
    }
    return next;
  }

  // ---- matching ------------------------------------------------------
  function columns() {
    const index = parties.indexOf(state.sdk);
    return index >= 0 ? [index] : parties.map((p, i) => i);
  }

  function cellMatches(cell) {
    if (!cell) return false;
    if (state.status === 'failing' && rankOf(cell) > LAST_FAILING) return false;
    if (state.status === 'minor' && kindOf(cell) !== 'minor') return false;
    if (state.status && state.status !== 'failing' && state.status !== 'minor' && cell.s !== state.status) return false;
    if (state.cause && !(cell.c || []).includes(+state.cause)) return false;
    if (state.severity && cell.v !== state.severity) return false;
    return true;
  }

  function searchable(i, party) {
    if (!lowered) lowered = rows.map(() => []);
    let textOf = lowered[i][party];
    if (textOf === undefined) {
      const cell = rows[i].cells[party];
      textOf = cell ? ((cell.c || []).map((c) => causes[c].name).join(' ') + ' ' + (cell.d || '') + ' ' + (cell.r || []).join(' ')).toLowerCase() : '';
      lowered[i][party] = textOf;
    }
    return textOf;
  }

  // The groups that match, worst first, each with its rows worst first.
  function compute(cols) {
    const needle = state.text.trim().toLowerCase();
    const groups = new Map();
    let cells = 0;
    let matched = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      let rank = 99;
      let hits = 0;
      for (const c of cols) {
        const cell = row.cells[c];
        if (cellMatches(cell)) {
          hits++;
          rank = Math.min(rank, rankOf(cell));
        }
      }
      if (!hits) continue;
      if (needle && !row.id.toLowerCase().includes(needle) && !cols.some((c) => searchable(i, c).includes(needle))) continue;
      matched++;
      cells += hits;
      let group = groups.get(row.g);
      if (!group) {
        group = { index: row.g, rank: 99, failing: [], passing: [], counts: {} };
        groups.set(row.g, group);
      }
      group.rank = Math.min(group.rank, rank);
      (rank <= LAST_FAILING ? group.failing : group.passing).push({ i: i, rank: rank });
      // A case counts once, by its worst matching cell.
      const kind = rank < RANK['known-failure'] ? 'failing' : rank === RANK['known-failure'] ? 'known' : rank === RANK.skipped ? 'skipped' : 'passed';
      group.counts[kind] = (group.counts[kind] || 0) + 1;
    }
    const byRank = (a, b) => a.rank - b.rank || a.i - b.i;
    const list = Array.from(groups.values());
    for (const g of list) {
      g.failing.sort(byRank);
      g.passing.sort(byRank);
    }
    list.sort((a, b) => a.rank - b.rank || a.index - b.index);
    return { groups: list, cases: matched, cells: cells };
  }

  // ---- rendering -----------------------------------------------------
  const container = document.getElementById('groups');

  function render() {
    const started = performance.now();
    const cols = columns();
    const result = compute(cols);
    count.textContent = result.cases + ' of ' + rows.length + ' cases match (' + result.cells + ' cells)';
    count.dataset.cases = result.cases;
    count.dataset.cells = result.cells;
    const nodes = result.groups.slice(0, groupLimit).map((g) => renderGroup(g, cols));
    if (result.groups.length > groupLimit) {
      const left = result.groups.length - groupLimit;
      nodes.push(el('button', {
        type: 'button', class: 'more', id: 'more-groups',
        text: 'show ' + Math.min(left, GROUPS_PER_PAGE) + ' more groups (' + left + ' left)',
        onclick: () => { groupLimit += GROUPS_PER_PAGE; render(); }
      }));
    }
    if (!result.groups.length) nodes.push(el('p', { class: 'note', text: 'No case matches the filter.' }));
    container.replaceChildren(...nodes);
    count.dataset.renderMs = Math.round(performance.now() - started);
  }

  function badges(g) {
    const order = [['failing', 'failing'], ['known', 'known failures'], ['passed', 'passed'], ['skipped', 'skipped']];
    return order.filter(([kind]) => g.counts[kind]).map(([kind, text]) => el('span', { class: 'badge ' + kind, text: g.counts[kind] + ' ' + text }));
  }

  function renderGroup(g, cols) {
    const open = opened.has(g.index) ? opened.get(g.index) : g.rank <= LAST_FAILING;
    const head = el('button', {
      type: 'button', class: 'ghead', 'aria-expanded': String(open),
      onclick: () => { opened.set(g.index, !open); render(); }
    }, [el('span', { class: 'twisty', text: open ? '▾' : '▸' }), el('span', { class: 'gname', text: data.groups[g.index] })].concat(badges(g)));
    const node = el('div', { class: 'group', 'data-group': data.groups[g.index] }, [head]);
    if (!open) return node;
    const body = el('tbody');
    const header = el('tr', {}, [el('th', { text: 'case' })].concat(cols.map((c) => el('th', { text: parties[c] }))));
    addRows(body, g, 'failing', g.failing, cols);
    if (g.passing.length) {
      const shown = passesShown.has(g.index) || !g.failing.length;
      if (g.failing.length) {
        body.append(el('tr', { class: 'toggle' }, [el('td', { colspan: cols.length + 1 }, [el('button', {
          type: 'button', class: 'passes', 'aria-expanded': String(shown),
          text: (shown ? 'hide ' : 'show ') + g.passing.length + ' passing or skipped case(s)',
          onclick: () => { if (shown) passesShown.delete(g.index); else passesShown.add(g.index); render(); }
        })])]));
      }
      if (shown) addRows(body, g, 'passing', g.passing, cols);
    }
    const widths = el('colgroup', {}, [el('col', { class: 'idcol' })].concat(cols.map(() => el('col'))));
    node.append(el('table', { class: 'cases' }, [widths, el('thead', {}, [header]), body]));
    return node;
  }

  function addRows(body, g, part, list, cols) {
    const key = g.index + ':' + part;
    const limit = limits.get(key) || ROWS_PER_PAGE;
    for (const entry of list.slice(0, limit)) body.append(caseRow(entry.i, g.index, cols));
    if (list.length > limit) {
      body.append(el('tr', { class: 'toggle' }, [el('td', { colspan: cols.length + 1 }, [el('button', {
        type: 'button', class: 'more', text: 'show ' + Math.min(ROWS_PER_PAGE, list.length - limit) + ' more (' + (list.length - limit) + ' left)',
        onclick: () => { limits.set(key, limit + ROWS_PER_PAGE); render(); }
      })])]));
    }
  }

  function caseRow(i, group, cols) {
    const row = rows[i];
    const prefix = data.groups[group];
    const shortId = row.id.startsWith(prefix + '/') ? row.id.slice(prefix.length + 1) : row.id;
    const tr = el('tr', { class: 'case', 'data-case': row.id }, [el('th', { class: 'id', title: row.id, text: shortId })]);
    for (const c of cols) {
      const cell = row.cells[c];
      if (!cell) {
        tr.append(el('td', { class: 'cell none' }));
        continue;
      }
      const kind = kindOf(cell);
      const td = el('td', { class: 'cell ' + kind, 'data-party': parties[c] });
      const names = (cell.c || []).map((k) => causes[k].name).join(', ');
      td.title = LABEL[kind] + (cell.v ? ', worst difference ' + cell.v : '') + (names ? ': ' + names : '');
      const label = [LABEL[kind]].concat(cell.v ? [el('span', { class: 'sev sev-' + cell.v, text: cell.v })] : []);
      if (cell.d) {
        td.append(el('button', { type: 'button', class: 'open', 'aria-expanded': 'false', onclick: (event) => toggleDiff(event.currentTarget, tr, i, c, cols.length + 1) }, label));
      } else {
        td.append(...label);
      }
      tr.append(td);
    }
    return tr;
  }

  function toggleDiff(button, tr, i, party, span) {
    const id = 'diff-' + i + '-' + party;
    const existing = document.getElementById(id);
    if (existing) {
      existing.remove();
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    button.setAttribute('aria-expanded', 'true');
    const cell = rows[i].cells[party];
    const what = kindOf(cell) === 'minor' ? 'passed with minor differences' : cell.s.replace('-', ' ') + (cell.v ? ' (worst difference ' + cell.v + ')' : '');
    const head = el('div', { class: 'dhead' }, [el('strong', { text: parties[party] + ': ' + what }), ' · ' + rows[i].id]);
    const about = (cell.c || []).map((k) => el('p', { class: 'cause' }, [el('strong', { text: causes[k].name }), causes[k].about ? ': ' + causes[k].about : '']));
    // A failing scenario step also shows what the SDK asked the mock CDN.
    const requests = (cell.r || []).length ? [el('p', { class: 'requests-head', text: 'Mock CDN requests (' + cell.r.length + ')' }), el('pre', { class: 'requests', text: cell.r.join('\n') })] : [];
    tr.after(el('tr', { class: 'diff', id: id }, [el('td', { colspan: span }, [head].concat(about, [diffText(cell.d)], requests))]));
  }

  // Unified diffs read faster with their added and removed lines coloured.
  function diffText(detail) {
    const pre = el('pre');
    for (const line of detail.replace(/\n+$/, '').split('\n')) {
      let cls = '';
      if (line.startsWith('+++') || line.startsWith('---')) cls = 'file';
      else if (line.startsWith('+')) cls = 'add';
      else if (line.startsWith('-')) cls = 'del';
      else if (line.startsWith('@@')) cls = 'hunk';
      pre.append(cls ? el('span', { class: cls, text: line }) : line, '\n');
    }
    return pre;
  }

  // A count in the matrix lists its cases: that party, that cause.
  for (const button of document.querySelectorAll('#matrix button[data-cause]')) {
    button.addEventListener('click', () => {
      apply({ sdk: button.dataset.party, cause: button.dataset.cause });
      document.getElementById('cases').scrollIntoView();
    });
  }

  apply(readHash());
  document.body.dataset.ready = 'true';
})();
