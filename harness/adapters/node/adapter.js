// UFC harness adapter for the Node SDK (npm `@eppo/node-server-sdk`).
//
// Speaks protocol v1 (docs/protocol.md): one JSON request per line on stdin,
// one JSON response per line on stdout. Everything else goes to stderr.
//
// Offline loading: the SDK's `init()` always fetches its configuration, so
// the adapter answers the fetches for its own base URL itself (see
// offlineFetch) with the flag and bandit files. The SDK then loads them
// through its own fetch-and-store code; polling is stopped right after init.
//
// Online (capability `online`, ops init / drainEvents / stopClient): `init`
// builds the SDK's ordinary client against the harness's mock CDN with its
// poller on; `configure` and `shutdown` stop it.
'use strict';

// Stdout is the protocol channel: protocol-io claims it and sends console
// output to stderr before the SDK is loaded. An answer is out when
// writeAnswer returns.
const { requestLines, writeAnswer, TextBytes, flushDiagnostics } = require('./protocol-io');
const fs = require('fs');
const sdk = require('@eppo/node-server-sdk');
const common = require('@eppo/js-client-sdk-common');

// The SDK's pino logger writes straight to file descriptor 1; reroute the
// levels it has enabled (LOG_LEVEL, default info) to stderr.
const sdkLogger = common.applicationLogger;
for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace']) {
  sdkLogger[level] = sdkLogger.isLevelEnabled(level) ? (...args) => console.error(`[eppo ${level}]`, ...args) : () => {};
}

const PROTOCOL = 1;
const PACKAGE = '@eppo/node-server-sdk';
// The JS core recognises an obfuscated (CLIENT) configuration by its format and evaluates it.
const CAPABILITIES = ['assign', 'details', 'events', 'bandits', 'bandit-details', 'bench', 'obfuscated', 'precompute',
  'online'];
// The online knobs of @eppo/node-server-sdk 3.x (init options and the JS
// core's poller): any positive pollingIntervalMs; a regular poll is set for
// exactly the interval after the previous one finished (no jitter); only
// retries after a failure add 5-10% of the interval (and double the wait per
// failure). requestTimeoutMs (default 5000) aborts every fetch, the first
// ones included: that is the start-up timeout initTimeoutMs sets.
const ONLINE = {
  minPollIntervalMs: 1,
  pollJitter: 'none on regular polls (each set the interval after the previous one ended); a retry after a failure waits 2^failures x the interval plus 5-10% of it',
  options: ['pollInterval', 'initTimeout', 'assignmentCache', 'banditCache', 'throwingLogger', 'sdkKey'],
};
const TYPED = { STRING: 'String', INTEGER: 'Integer', NUMERIC: 'Numeric', BOOLEAN: 'Boolean', JSON: 'JSON' };

// Loggers keep each event as JSON text, taken when it is logged (the SDK
// mutates the details object it shares with the event after logging it):
// while a case is evaluated (`on`) in that case's `assignments` / `bandits`,
// the events' texts joined by commas, which go into the answer as they are
// (serialised once, never parsed back; a string per case, not an array of
// them, as most cases log one event or none); at any other time as a parsed
// snapshot in `pending`, which drainEvents hands out. `muted` (bench loops)
// drops them. `throwing`: each call is kept, then the logger throws.
const recorder = {
  on: false, muted: false, throwing: false, assignments: '', bandits: '',
  pending: { assignmentEvents: [], banditEvents: [], loggerCalls: 0 },
};
function keep(event, bandit) {
  if (recorder.muted) return;
  if (recorder.on) {
    const text = JSON.stringify(event);
    if (bandit) recorder.bandits = recorder.bandits === '' ? text : `${recorder.bandits},${text}`;
    else recorder.assignments = recorder.assignments === '' ? text : `${recorder.assignments},${text}`;
  } else {
    const pending = bandit ? recorder.pending.banditEvents : recorder.pending.assignmentEvents;
    pending.push(JSON.parse(JSON.stringify(event)));
    recorder.pending.loggerCalls += 1;
  }
  if (recorder.throwing) throw new Error('harness: throwing logger');
}
const assignmentLogger = { logAssignment: (e) => keep(e, false) };
const banditLogger = { logBanditAction: (e) => keep(e, true) };
// The case threw: what it logged goes to `pending`, as no result reports it.
function abandonCase() {
  recorder.on = false;
  const assignments = JSON.parse(`[${recorder.assignments}]`);
  const bandits = JSON.parse(`[${recorder.bandits}]`);
  recorder.pending.assignmentEvents.push(...assignments);
  recorder.pending.banditEvents.push(...bandits);
  recorder.pending.loggerCalls += assignments.length + bandits.length;
}
function startCase() {
  recorder.on = true;
  recorder.assignments = '';
  recorder.bandits = '';
}
function resetRecorder(throwing) {
  Object.assign(recorder, { on: false, muted: false, throwing, assignments: '', bandits: '' });
  recorder.pending = { assignmentEvents: [], banditEvents: [], loggerCalls: 0 };
}

// What offlineFetch hands the SDK, and how many fetches it answered.
const served = { flags: null, bandits: null, fetches: 0 };
const NO_BANDITS = '{"bandits":{},"updatedAt":"1970-01-01T00:00:00Z"}';
let client = null;
let onlineClient = null; // the client `init` built, while its poller may run

function stopOnline() {
  onlineClient?.stopPolling();
  onlineClient = null;
}

// The SDK fetches configure's files from OFFLINE_BASE_URL, which
// offlineFetch answers in process, as a loopback HTTP server did before:
// that server and undici's HTTP client cost 5 ms of CPU per configure, a
// tenth of the adapter's time in a fuzz run (configure comes once per 512
// cases). Every other URL (the online ops' mock CDN) goes to the real
// fetch; `.invalid` cannot resolve, should a fetch ever get past this.
const OFFLINE_BASE_URL = 'http://ufc-adapter.invalid/api';
const networkFetch = globalThis.fetch;
function offlineFetch(resource, options) {
  const url = typeof resource === 'string' ? resource : String(resource?.url ?? resource);
  if (!url.startsWith(`${OFFLINE_BASE_URL}/`)) return networkFetch(resource, options);
  served.fetches += 1;
  const path = url.slice(OFFLINE_BASE_URL.length).split('?')[0];
  // No bandit file means no bandit models, not a failed fetch.
  const body = path.endsWith('/flag-config/v1/config') ? served.flags
    : path.endsWith('/flag-config/v1/bandits') ? (served.bandits ?? NO_BANDITS) : null;
  return Promise.resolve(new OfflineResponse(body === null ? 404 : 200, body ?? 'not found'));
}
globalThis.fetch = offlineFetch;

// What the SDK's HTTP client reads of a fetch Response (js-client-sdk-common
// http-client.js: ok, status, json(), text()). Not undici's Response: in a
// profile its body streams cost about 0.3 ms per configure, and loading
// undici 30 ms at start. The SDK still parses the file text itself.
class OfflineResponse {
  constructor(status, body) {
    this.status = status;
    this.ok = status >= 200 && status < 300;
    this.body = body;
  }

  async text() {
    return this.body;
  }

  async json() {
    return JSON.parse(this.body);
  }
}

function source(spec, what) {
  if (spec && typeof spec === 'object' && 'path' in spec) return fs.readFileSync(spec.path, 'utf8');
  if (spec && typeof spec === 'object' && 'inline' in spec) return JSON.stringify(spec.inline);
  throw new Error(`${what} must be {"path": FILE} or {"inline": OBJECT}`);
}

// The shared test files' evaluationDetails keys, in their order. An object
// literal rather than a loop over a key list: it is built for every case,
// and a fixed shape is what JSON.stringify serialises fastest.
function sharedDetails(d) {
  if (d == null) return null;
  return {
    environmentName: d.environmentName ?? null,
    flagEvaluationCode: d.flagEvaluationCode ?? null,
    flagEvaluationDescription: d.flagEvaluationDescription ?? null,
    banditKey: d.banditKey ?? null,
    banditAction: d.banditAction ?? null,
    variationKey: d.variationKey ?? null,
    variationValue: d.variationValue ?? null,
    matchedRule: d.matchedRule ?? null,
    matchedAllocation: d.matchedAllocation ?? null,
    unmatchedAllocations: d.unmatchedAllocations ?? null,
    unevaluatedAllocations: d.unevaluatedAllocations ?? null,
  };
}

// The bandit methods take {numericAttributes, categoricalAttributes} contexts.
const context = (a) => ({ numericAttributes: a?.numericAttributes ?? {}, categoricalAttributes: a?.categoricalAttributes ?? {} });
const actionMap = (actions) => Object.fromEntries((actions ?? []).map((a) => [a.actionKey, context(a)]));

// The name of the SDK method for a variation type, e.g. getStringAssignmentDetails.
// Looked up in a table for each case, not built as a template string and
// bound anew for each one.
const METHODS = Object.fromEntries(Object.entries(TYPED).map(([type, name]) => [type, {
  assign: `get${name}Assignment`, details: `get${name}AssignmentDetails`,
}]));
function methodName(variationType, mode) {
  if (!Object.hasOwn(METHODS, variationType)) throw new Error(`unknown variationType ${JSON.stringify(variationType)}`);
  return METHODS[variationType][mode];
}

// One case's result as JSON text, written before a later call can change
// the details object the SDK handed back.
function evaluateCase(c) {
  startCase();
  try {
    let r;
    let value;
    if (c.kind === 'bandit') {
      r = client.getBanditActionDetails(c.flag, c.subjectKey, context(c.subjectAttributes), actionMap(c.actions), c.defaultValue);
      value = { variation: r.variation, action: r.action ?? null };
    } else if (c.kind === 'flag') {
      const method = methodName(c.variationType, 'details');
      r = client[method](c.flag, c.subjectKey, c.subjectAttributes ?? {}, c.defaultValue);
      value = r.variation;
    } else {
      throw new Error(`unknown case kind ${JSON.stringify(c.kind)}`);
    }
    recorder.on = false;
    const events = `"assignmentEvents":[${recorder.assignments}],"banditEvents":[${recorder.bandits}]}`;
    const details = sharedDetails(r.evaluationDetails);
    // One JSON.stringify for caseId, value and details, the event texts
    // spliced in after them. Only a value holding a non-finite number needs
    // the replacer, which would slow the whole call down (the protocol
    // spells those numbers as strings in values only).
    if (value !== undefined && hasNonFinite(value)) {
      return `{"caseId":${JSON.stringify(c.caseId ?? null)},"value":${JSON.stringify(value, finite)},`
        + `"details":${JSON.stringify(details)},${events}`;
    }
    const head = JSON.stringify({ caseId: c.caseId ?? null, value, details });
    return `${head.slice(0, -1)},${events}`;
  } catch (e) {
    abandonCase();
    throw e;
  }
}

const ops = {
  hello(req) {
    if (req.protocol !== PROTOCOL) throw new Error(`this adapter speaks protocol ${PROTOCOL}, not ${JSON.stringify(req.protocol)}`);
    const version = require(`${PACKAGE}/package.json`).version;
    return { protocol: PROTOCOL, sdk: { name: 'node', package: PACKAGE, version }, capabilities: CAPABILITIES, online: ONLINE };
  },
  async configure(req) {
    const flags = source(req.flags, 'flags');
    const bandits = req.bandits == null ? null : source(req.bandits, 'bandits');
    // A clear error here beats the SDK's "Network error" (inline text is valid JSON already).
    if ('path' in req.flags) JSON.parse(flags);
    stopOnline();
    resetRecorder(false);
    Object.assign(served, { flags, bandits, fetches: 0 });
    try {
      client = await sdk.init({
        apiKey: 'offline-harness', baseUrl: OFFLINE_BASE_URL, assignmentLogger, banditLogger,
        numInitialRequestRetries: 0, throwOnFailedInitialization: true,
      });
    } catch (e) {
      if (served.fetches > 0) throw e;
      throw new Error(`the SDK fetched nothing through globalThis.fetch, where the adapter serves the files (${e?.message ?? e})`);
    }
    client.stopPolling();
    // init() installs LRU caches that drop repeated events; the harness must see every one.
    client.disableAssignmentCache();
    client.disableBanditAssignmentCache();
    return {};
  },
  evaluate(req) {
    if (!client) throw new Error('evaluate before configure');
    if (!Array.isArray(req.cases)) throw new Error('evaluate needs a cases array');
    const { cases } = req;
    resultBytes.clear();
    resultBytes.append('[');
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      if (i > 0) resultBytes.append(',');
      try {
        resultBytes.append(evaluateCase(c));
      } catch (e) {
        const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        resultBytes.append(JSON.stringify({ caseId: c?.caseId ?? null, error }, finite));
      }
    }
    resultBytes.append(']');
    return { results: new RawJson(resultBytes.view()) };
  },
  precompute(req) {
    if (!client) throw new Error('precompute before configure');
    if (typeof req.subjectKey !== 'string') throw new Error('precompute needs a subjectKey');
    // The SDK hands out the configuration-wire envelope as JSON text; the harness parses it.
    // Attributes flat or {numericAttributes, categoricalAttributes}; the SDK takes either.
    const actions = req.banditActions ?? {};
    const text = client.getPrecomputedConfiguration(req.subjectKey, req.subjectAttributes ?? {}, actions, req.salt);
    return { configuration: text };
  },
  bench(req) {
    if (!client) throw new Error('bench before configure');
    const subjects = req.subjects ?? [];
    if (subjects.length === 0) throw new Error('bench needs at least one subject');
    const n = Number(req.iterations);
    let call;
    let args;
    if (req.mode === 'bandit') {
      call = client.getBanditAction.bind(client);
      const actions = actionMap(req.actions);
      args = subjects.map((s) => [s.subjectKey, context(s.subjectAttributes), actions]);
    } else if (req.mode === 'assign' || req.mode === 'details') {
      const method = client[methodName(req.variationType, req.mode)];
      call = method.bind(client);
      args = subjects.map((s) => [s.subjectKey, s.subjectAttributes ?? {}]);
    } else {
      throw new Error(`unknown bench mode ${JSON.stringify(req.mode)}`);
    }
    Object.assign(recorder, { on: false, muted: true }); // loggers drop everything during the loop
    const m = args.length;
    try {
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) call(req.flag, ...args[i % m], req.defaultValue);
      return { iterations: n, elapsedNs: Number(process.hrtime.bigint() - start) };
    } finally {
      recorder.muted = false;
    }
  },
  async init(req) {
    stopOnline();
    if (!Number.isInteger(req.pollIntervalMs) || req.pollIntervalMs < 1) {
      throw new Error(`pollIntervalMs must be a positive integer, not ${JSON.stringify(req.pollIntervalMs)}`);
    }
    if (typeof req.baseUrl !== 'string') throw new Error('init needs a baseUrl');
    resetRecorder(req.logger === 'throwing');
    const options = {
      apiKey: req.sdkKey, baseUrl: `${req.baseUrl.replace(/\/$/, '')}/api`, assignmentLogger, banditLogger,
      pollingIntervalMs: req.pollIntervalMs,
    };
    if (req.initTimeoutMs != null) options.requestTimeoutMs = req.initTimeoutMs;
    const started = Date.now();
    const previous = client;
    const starting = sdk.init(options);
    // init() builds its client before its first await, so the instance is
    // there to stop, tune and evaluate before the first fetch ends; when it
    // is still the previous one, init refused synchronously (no SDK key).
    let built = null;
    try {
      built = sdk.getInstance();
    } catch (_) { /* no instance yet */ }
    if (built === null || built === previous) {
      await starting;
      throw new Error('the SDK built no client');
    }
    client = onlineClient = built;
    // init() installs an LRU assignment cache and an expiring bandit cache.
    if (!req.assignmentCache) built.disableAssignmentCache();
    if (!req.banditCache) built.disableBanditAssignmentCache();
    if (req.waitForInit === false) {
      starting.catch((e) => console.error('adapter: the SDK\'s init failed:', e));
    } else {
      await starting; // throws when the first fetches fail (throwOnFailedInitialization defaults to true)
    }
    return { initialized: built.isInitialized(), elapsedMs: Date.now() - started };
  },
  drainEvents() {
    const drained = recorder.pending;
    recorder.pending = { assignmentEvents: [], banditEvents: [], loggerCalls: 0 };
    return drained;
  },
  stopClient() {
    stopOnline();
    return {};
  },
};

// JSON has no NaN or infinities; the protocol spells them as strings.
function finite(_key, value) {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

// Whether JSON.stringify would meet a NaN or an infinity in `value` (a
// JSON value: only own enumerable keys and array items are visited).
function hasNonFinite(value) {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasNonFinite);
  for (const key of Object.keys(value)) if (hasNonFinite(value[key])) return true;
  return false;
}

// An answer's `results`, already JSON as UTF-8 bytes.
class RawJson {
  constructor(bytes) {
    this.bytes = bytes;
  }
}
// evaluate's results, encoded as they come; one buffer reused for every batch.
const resultBytes = new TextBytes();

// A result list is spliced in as text: stringifying a whole batch through a
// replacer costs more than evaluating it.
function send(msg) {
  const { results, ...rest } = msg;
  const line = JSON.stringify(rest, finite);
  flushDiagnostics();
  if (results instanceof RawJson) {
    const head = `${line.slice(0, -1)}${line.length > 2 ? ',' : ''}"results":`;
    writeAnswer([Buffer.from(head), results.bytes, Buffer.from('}\n')]);
  } else {
    writeAnswer([Buffer.from(`${line}\n`)]);
  }
}

async function main() {
  for await (const line of requestLines(process.stdin)) {
    if (!line.trim()) continue;
    let id = null;
    try {
      const req = JSON.parse(line);
      if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new Error('request is not a JSON object');
      id = req.id ?? null;
      if (req.op === 'shutdown') {
        stopOnline();
        send({ id, ok: true });
        process.exit(0);
      }
      if (!Object.hasOwn(ops, req.op)) throw new Error(`unknown op ${JSON.stringify(req.op)}`);
      send({ id, ok: true, ...(await ops[req.op](req)) });
    } catch (e) {
      console.error('adapter: request failed:', e);
      send({ id, ok: false, error: String(e?.message ?? e) });
    }
  }
  stopOnline();
  process.exit(0);
}

main();
