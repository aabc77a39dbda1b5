// UFC harness adapter for the Node SDK (npm `@eppo/node-server-sdk`).
//
// Speaks protocol v1 (docs/protocol.md): one JSON request per line on stdin,
// one JSON response per line on stdout. Everything else goes to stderr.
//
// Offline loading: the SDK's `init()` always fetches its configuration over
// HTTP, so the adapter serves the flag and bandit files itself on a loopback
// port (127.0.0.1, nothing else) and points `baseUrl` there. The SDK then
// loads them through its own fetch-and-store code; polling is stopped right
// after init.
//
// Online (capability `online`, ops init / drainEvents / stopClient): `init`
// builds the SDK's ordinary client against the harness's mock CDN with its
// poller on; `configure` and `shutdown` stop it.
'use strict';

// Stdout is the protocol channel. Keep a private writer and send console
// output to stderr before the SDK is loaded. (process.stdout writes to pipes
// synchronously on Linux and macOS, so a response is out when write returns.)
const fs = require('fs');
const stdoutWrite = process.stdout.write.bind(process.stdout);
const writeProtocol = (line) => stdoutWrite(line);
process.stdout.write = process.stderr.write.bind(process.stderr);
// Diagnostics are kept and written to stderr in one piece before each
// answer (or once 64 kB have piled up): the SDK logs a line for about a third
// of fuzzed cases, and a write per line cost a third of the adapter's time.
const util = require('util');
const diagnostics = { lines: [], bytes: 0 };
function flushDiagnostics() {
  if (diagnostics.lines.length === 0) return;
  process.stderr.write(diagnostics.lines.join('\n') + '\n');
  Object.assign(diagnostics, { lines: [], bytes: 0 });
}
function diagnose(...args) {
  const line = util.format(...args);
  diagnostics.lines.push(line);
  diagnostics.bytes += line.length;
  if (diagnostics.bytes > 65536) flushDiagnostics();
}
process.on('exit', flushDiagnostics);
for (const name of ['log', 'info', 'warn', 'debug', 'trace', 'error']) console[name] = diagnose;

const http = require('http');
const readline = require('readline');
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
const DETAIL_KEYS = ['environmentName', 'flagEvaluationCode', 'flagEvaluationDescription', 'banditKey',
  'banditAction', 'variationKey', 'variationValue', 'matchedRule', 'matchedAllocation',
  'unmatchedAllocations', 'unevaluatedAllocations'];

// Loggers keep each event as JSON text, taken when it is logged (the SDK
// mutates the details object it shares with the event after logging it):
// while a case is evaluated (`on`) in that case's lists, as text that goes
// into the answer as it is (serialised once, never parsed back); at any
// other time as a parsed snapshot in `pending`, which drainEvents hands out.
// `muted` (bench loops) drops them. `throwing`: each call is kept, then the
// logger throws.
const recorder = {
  on: false, muted: false, throwing: false, assignments: [], bandits: [],
  pending: { assignmentEvents: [], banditEvents: [], loggerCalls: 0 },
};
function keep(event, caseList, pendingList) {
  if (recorder.muted) return;
  if (recorder.on) {
    caseList().push(JSON.stringify(event));
  } else {
    pendingList().push(JSON.parse(JSON.stringify(event)));
    recorder.pending.loggerCalls += 1;
  }
  if (recorder.throwing) throw new Error('harness: throwing logger');
}
const assignmentLogger = { logAssignment: (e) => keep(e, () => recorder.assignments, () => recorder.pending.assignmentEvents) };
const banditLogger = { logBanditAction: (e) => keep(e, () => recorder.bandits, () => recorder.pending.banditEvents) };
// The case threw: what it logged goes to `pending`, as no result reports it.
function abandonCase() {
  recorder.on = false;
  recorder.pending.assignmentEvents.push(...recorder.assignments.map((text) => JSON.parse(text)));
  recorder.pending.banditEvents.push(...recorder.bandits.map((text) => JSON.parse(text)));
  recorder.pending.loggerCalls += recorder.assignments.length + recorder.bandits.length;
}
function resetRecorder(throwing) {
  Object.assign(recorder, { on: false, muted: false, throwing, assignments: [], bandits: [] });
  recorder.pending = { assignmentEvents: [], banditEvents: [], loggerCalls: 0 };
}

// What the loopback server hands the SDK.
const served = { flags: null, bandits: null };
const NO_BANDITS = '{"bandits":{},"updatedAt":"1970-01-01T00:00:00Z"}';
let baseUrl = null;
let client = null;
let onlineClient = null; // the client `init` built, while its poller may run

function stopOnline() {
  onlineClient?.stopPolling();
  onlineClient = null;
}

function startServer() {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    // No bandit file means no bandit models, not a failed fetch.
    const body = path.endsWith('/flag-config/v1/config') ? served.flags
      : path.endsWith('/flag-config/v1/bandits') ? (served.bandits ?? NO_BANDITS) : null;
    res.writeHead(body === null ? 404 : 200, { 'content-type': 'application/json' });
    res.end(body ?? 'not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    server.unref();
    resolve(`http://127.0.0.1:${server.address().port}/api`);
  }));
}

function source(spec, what) {
  if (spec && typeof spec === 'object' && 'path' in spec) return fs.readFileSync(spec.path, 'utf8');
  if (spec && typeof spec === 'object' && 'inline' in spec) return JSON.stringify(spec.inline);
  throw new Error(`${what} must be {"path": FILE} or {"inline": OBJECT}`);
}

function sharedDetails(d) {
  if (d == null) return null;
  return Object.fromEntries(DETAIL_KEYS.map((k) => [k, d[k] === undefined ? null : d[k]]));
}

// The bandit methods take {numericAttributes, categoricalAttributes} contexts.
const context = (a) => ({ numericAttributes: a?.numericAttributes ?? {}, categoricalAttributes: a?.categoricalAttributes ?? {} });
const actionMap = (actions) => Object.fromEntries((actions ?? []).map((a) => [a.actionKey, context(a)]));

function typedMethod(variationType, suffix) {
  if (!(variationType in TYPED)) throw new Error(`unknown variationType ${JSON.stringify(variationType)}`);
  return client[`get${TYPED[variationType]}Assignment${suffix}`].bind(client);
}

function evaluateCase(c) {
  Object.assign(recorder, { on: true, assignments: [], bandits: [] });
  try {
    let r;
    let value;
    if (c.kind === 'bandit') {
      r = client.getBanditActionDetails(c.flag, c.subjectKey, context(c.subjectAttributes), actionMap(c.actions), c.defaultValue);
      value = { variation: r.variation, action: r.action ?? null };
    } else if (c.kind === 'flag') {
      r = typedMethod(c.variationType, 'Details')(c.flag, c.subjectKey, c.subjectAttributes ?? {}, c.defaultValue);
      value = r.variation;
    } else {
      throw new Error(`unknown case kind ${JSON.stringify(c.kind)}`);
    }
    recorder.on = false;
    // The answer as JSON text, written now, before a later call can change
    // the details object the SDK handed back.
    const fields = [`"caseId":${JSON.stringify(c.caseId ?? null)}`];
    if (value !== undefined) fields.push(`"value":${JSON.stringify(value, finite)}`);
    fields.push(`"details":${JSON.stringify(sharedDetails(r.evaluationDetails))}`,
      `"assignmentEvents":[${recorder.assignments.join(',')}]`, `"banditEvents":[${recorder.bandits.join(',')}]`);
    return new RawJson(`{${fields.join(',')}}`);
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
    JSON.parse(flags); // a clear error here beats the SDK's "Network error"
    stopOnline();
    resetRecorder(false);
    Object.assign(served, { flags, bandits });
    baseUrl ??= await startServer();
    client = await sdk.init({
      apiKey: 'offline-harness', baseUrl, assignmentLogger, banditLogger,
      numInitialRequestRetries: 0, throwOnFailedInitialization: true,
    });
    client.stopPolling();
    // init() installs LRU caches that drop repeated events; the harness must see every one.
    client.disableAssignmentCache();
    client.disableBanditAssignmentCache();
    return {};
  },
  evaluate(req) {
    if (!client) throw new Error('evaluate before configure');
    if (!Array.isArray(req.cases)) throw new Error('evaluate needs a cases array');
    return {
      results: req.cases.map((c) => {
        try {
          return evaluateCase(c);
        } catch (e) {
          return { caseId: c?.caseId ?? null, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
        }
      }),
    };
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
      call = typedMethod(req.variationType, req.mode === 'details' ? 'Details' : '');
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

// A piece of an answer that is JSON text already (a case's result).
class RawJson {
  constructor(text) {
    this.text = text;
  }
}

// A result list is spliced in as text: stringifying a whole batch through a
// replacer costs more than evaluating it.
function send(msg) {
  const { results, ...rest } = msg;
  let line = JSON.stringify(rest, finite);
  if (Array.isArray(results)) {
    const items = results.map((r) => (r instanceof RawJson ? r.text : JSON.stringify(r, finite)));
    line = `${line.slice(0, -1)}${line.length > 2 ? ',' : ''}"results":[${items.join(',')}]}`;
  }
  flushDiagnostics();
  writeProtocol(line + '\n');
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
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
