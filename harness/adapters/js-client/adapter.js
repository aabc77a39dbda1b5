// UFC harness adapter for npm `@eppo/js-client-sdk-common`, the evaluation
// core that Eppo's browser (`@eppo/js-client-sdk`) and React Native SDKs are
// thin layers over. It drives the core the way those SDKs do: an `EppoClient`
// over memory-only configuration stores, filled by the core's own
// `ConfigurationRequestor`. The only stand-in is the requestor's transport: an
// in-process HTTP client that answers with the files named in `configure`, so
// nothing touches the network and no port is opened.
//
// Online (capability `online`, ops init / drainEvents / stopClient; see
// online.js): `init` builds an EppoClient that fetches and polls the
// harness's mock CDN through the core's own HTTP client and poller;
// `configure`, a later `init`, `stopClient` and `shutdown` stop it.
//
// Speaks protocol v1 (docs/protocol.md): one JSON request per line on stdin,
// one JSON response per line on stdout. Everything else goes to stderr.
'use strict';

// Stdout is the protocol channel: keep a private writer, and point console
// output and process.stdout at stderr before the SDK is loaded.
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const protocolOut = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);
for (const method of ['log', 'info', 'warn', 'debug', 'trace']) console[method] = console.error;

const core = require('@eppo/js-client-sdk-common');
const { Recorder, copyJson } = require('./recorder');
const online = require('./online');

// The core logs through pino, which writes to file descriptor 1 directly.
// Replace each enabled level with a stderr writer and silence the others.
for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace']) {
  if (!core.applicationLogger) break; // releases before 4.0 log through console
  core.applicationLogger[level] = core.applicationLogger.isLevelEnabled(level)
    ? (...args) => console.error(`[eppo ${level}]`, ...args)
    : () => {};
}

const PROTOCOL = 1;
const PACKAGE = '@eppo/js-client-sdk-common';
// The core reads both formats: a configuration whose `format` is CLIENT is
// looked up by MD5 of the flag key and decoded (spec section 6).
// `precomputed-client`: `configure` may also carry a `precomputed`
// configuration, answered through EppoPrecomputedClient (see the README).
// Every release from 4.0 has the client API the adapter is built on; the
// later capabilities are declared only when the installed release has
// their API (install.sh DEST VERSION installs any release).
const clientApi = core.EppoClient?.prototype ?? {};
const MISSING_API = ['MemoryOnlyConfigurationStore', 'FlagConfigRequestor']
  .filter((name) => typeof core[name] !== 'function')
  .concat(typeof clientApi.getStringAssignmentDetails === 'function' ? [] : ['EppoClient.getStringAssignmentDetails']);
const HAS_API = {
  bandits: typeof clientApi.getBanditActionDetails === 'function',
  'bandit-details': typeof clientApi.getBanditActionDetails === 'function',
  precompute: typeof clientApi.getPrecomputedConfiguration === 'function',
  'precomputed-client': typeof core.EppoPrecomputedClient === 'function',
  online: online.hasOnlineApi(core),
};
const CAPABILITIES = ['assign', 'details', 'events', 'bandits', 'bandit-details', 'bench', 'obfuscated', 'precompute',
  'precomputed-client', 'online'].filter((capability) => HAS_API[capability] ?? true);
const METHOD_STEM = { STRING: 'String', INTEGER: 'Integer', NUMERIC: 'Numeric', BOOLEAN: 'Boolean', JSON: 'JSON' };
// The keys of the shared test files' `evaluationDetails`; the core's details
// carry these plus timestamps that no test file compares.
const SHARED_DETAIL_KEYS = ['environmentName', 'flagEvaluationCode', 'flagEvaluationDescription', 'banditKey',
  'banditAction', 'variationKey', 'variationValue', 'matchedRule', 'matchedAllocation',
  'unmatchedAllocations', 'unevaluatedAllocations'];
const EMPTY_BANDIT_MODELS = { bandits: {} };

// What every client's loggers received (recorder.js).
const recorder = new Recorder();

// The client that answers the cases: the one over the `flags` configuration
// of `configure`, or the online one `init` built (then also `onlineClient`,
// while its poller may run). When `configure` also gave a `precomputed`
// configuration, the precomputed client answers instead.
let client = null;
let onlineClient = null;
let precomputed = null;

function stopOnline() {
  onlineClient?.stopPolling();
  onlineClient = null;
}

function readSource(spec, what) {
  if (spec && typeof spec === 'object' && 'path' in spec) return JSON.parse(fs.readFileSync(spec.path, 'utf8'));
  if (spec && typeof spec === 'object' && 'inline' in spec) return copyJson(spec.inline);
  throw new Error(`${what} must be {"path": FILE} or {"inline": OBJECT}`);
}

// The transport the core's requestor would use to reach Eppo's CDN, answering
// from memory. Only the two UFC endpoints are ever asked for by a requestor.
function inMemoryHttpClient(flagsResponse, banditsResponse) {
  const unavailable = async () => {
    throw new Error('the js-client adapter serves only the flag and bandit configurations');
  };
  return {
    getUniversalFlagConfiguration: async () => flagsResponse,
    getBanditParameters: async () => banditsResponse,
    getPrecomputedFlags: unavailable,
    rawGet: unavailable,
    rawPost: unavailable,
  };
}

// A client as the browser SDK builds one: memory-only stores for flags, the
// bandit variations indexed from `banditReferences`, and bandit models.
async function buildClient(flagsResponse, banditsResponse) {
  if (flagsResponse === null || typeof flagsResponse !== 'object' || !flagsResponse.flags) {
    throw new Error('the flag configuration has no "flags" object');
  }
  const flagStore = new core.MemoryOnlyConfigurationStore();
  const banditVariationStore = new core.MemoryOnlyConfigurationStore();
  const banditModelStore = new core.MemoryOnlyConfigurationStore();
  const requestor = new core.FlagConfigRequestor(
    inMemoryHttpClient(flagsResponse, banditsResponse), flagStore, banditVariationStore, banditModelStore);
  await requestor.fetchAndStoreConfigurations();
  const built = new core.EppoClient({
    flagConfigurationStore: flagStore,
    banditVariationConfigurationStore: banditVariationStore,
    banditModelConfigurationStore: banditModelStore,
  });
  built.setAssignmentLogger(recorder.assignmentLogger);
  built.setBanditLogger(recorder.banditLogger);
  // A directly built EppoClient has no dedup caches (the browser SDK's
  // init() adds them); the harness must see every event, so none are added.
  return built;
}

// A precomputed client as the browser SDK's offlinePrecomputedInit builds
// one from a configuration-wire envelope (spec section 7): memory-only flag
// and bandit stores holding the response's entries and its salt, for the
// subject the envelope names. The client looks entries up by md5(salt + key)
// and base64-decodes them, so it reads obfuscated responses only.
async function buildPrecomputedClient(envelope) {
  const wire = envelope?.precomputed;
  if (wire === null || typeof wire !== 'object') throw new Error('the precomputed configuration has no "precomputed" entry');
  const response = typeof wire.response === 'string' ? JSON.parse(wire.response) : wire.response;
  if (response === null || typeof response !== 'object' || !response.flags) {
    throw new Error('the precomputed response has no "flags" object');
  }
  const flagStore = new core.MemoryOnlyConfigurationStore();
  await flagStore.setEntries(response.flags);
  flagStore.salt = response.salt;
  const banditStore = new core.MemoryOnlyConfigurationStore();
  await banditStore.setEntries(response.bandits ?? {});
  banditStore.salt = response.salt;
  const subject = { subjectKey: wire.subjectKey, subjectAttributes: wire.subjectAttributes ?? {} };
  const built = new core.EppoPrecomputedClient({ precomputedFlagStore: flagStore, precomputedBanditStore: banditStore, subject });
  built.setAssignmentLogger(recorder.assignmentLogger);
  built.setBanditLogger(recorder.banditLogger);
  // No assignment caches, as for the EppoClient (the browser SDK adds one).
  return { client: built, subjectKey: wire.subjectKey };
}

// Bandit calls take {numericAttributes, categoricalAttributes} contexts.
const toContext = (attrs) => ({
  numericAttributes: attrs?.numericAttributes ?? {},
  categoricalAttributes: attrs?.categoricalAttributes ?? {},
});
const toActions = (actions) => Object.fromEntries((actions ?? []).map((a) => [a.actionKey, toContext(a)]));

function flagMethod(variationType, details) {
  const stem = METHOD_STEM[variationType];
  if (stem === undefined) throw new Error(`unknown variationType ${JSON.stringify(variationType)}`);
  const method = client[`get${stem}Assignment${details ? 'Details' : ''}`];
  return method.bind(client);
}

function sharedDetails(details) {
  if (details == null) return null;
  const copy = copyJson(details);
  return Object.fromEntries(SHARED_DETAIL_KEYS.map((key) => [key, copy[key] ?? null]));
}

// The precomputed client serves what was computed for its one subject: the
// case's attributes and actions are not its to take, and another subject's
// case has no answer in it. It gives no evaluation details.
function answerPrecomputedCase(c) {
  if (c.subjectKey !== precomputed.subjectKey) {
    throw new Error(`the precomputed configuration holds subject ${JSON.stringify(precomputed.subjectKey)}, not ${JSON.stringify(c.subjectKey)}`);
  }
  const lookup = precomputed.client;
  if (c.kind === 'flag') {
    const stem = METHOD_STEM[c.variationType];
    if (stem === undefined) throw new Error(`unknown variationType ${JSON.stringify(c.variationType)}`);
    return { value: lookup[`get${stem}Assignment`](c.flag, c.defaultValue), details: null };
  }
  if (c.kind === 'bandit') {
    const result = lookup.getBanditAction(c.flag, c.defaultValue);
    return { value: { variation: result.variation, action: result.action ?? null }, details: null };
  }
  throw new Error(`unknown case kind ${JSON.stringify(c.kind)}`);
}

function answerCase(c) {
  if (precomputed) return answerPrecomputedCase(c);
  let result;
  let value;
  if (c.kind === 'flag') {
    result = flagMethod(c.variationType, true)(c.flag, c.subjectKey, c.subjectAttributes ?? {}, c.defaultValue);
    value = result.variation;
  } else if (c.kind === 'bandit') {
    result = client.getBanditActionDetails(
      c.flag, c.subjectKey, toContext(c.subjectAttributes), toActions(c.actions), c.defaultValue);
    value = { variation: result.variation, action: result.action ?? null };
  } else {
    throw new Error(`unknown case kind ${JSON.stringify(c.kind)}`);
  }
  return { value, details: sharedDetails(result.evaluationDetails) };
}

function evaluateOne(c) {
  recorder.startCase();
  try {
    const { value, details } = answerCase(c);
    return { caseId: c.caseId, value, details, ...recorder.finishCase() };
  } catch (e) {
    recorder.abandonCase();
    return { caseId: c?.caseId ?? null, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

// One bench call per iteration, cycling through the subjects (a precomputed
// client has one subject and looks up the flag for it).
function benchCall(req) {
  const subjects = req.subjects ?? [];
  if (subjects.length === 0) throw new Error('bench needs at least one subject');
  if (precomputed) {
    const lookup = precomputed.client;
    if (req.mode === 'bandit') return () => lookup.getBanditAction(req.flag, req.defaultValue);
    if (req.mode !== 'assign') throw new Error(`the precomputed client has no ${JSON.stringify(req.mode)} mode`);
    const stem = METHOD_STEM[req.variationType];
    if (stem === undefined) throw new Error(`unknown variationType ${JSON.stringify(req.variationType)}`);
    const method = lookup[`get${stem}Assignment`].bind(lookup);
    return () => method(req.flag, req.defaultValue);
  }
  if (req.mode === 'bandit') {
    const actions = toActions(req.actions);
    const contexts = subjects.map((s) => [s.subjectKey, toContext(s.subjectAttributes)]);
    return (i) => {
      const [key, context] = contexts[i % contexts.length];
      client.getBanditAction(req.flag, key, context, actions, req.defaultValue);
    };
  }
  if (req.mode !== 'assign' && req.mode !== 'details') throw new Error(`unknown bench mode ${JSON.stringify(req.mode)}`);
  const method = flagMethod(req.variationType, req.mode === 'details');
  return (i) => {
    const s = subjects[i % subjects.length];
    method(req.flag, s.subjectKey, s.subjectAttributes ?? {}, req.defaultValue);
  };
}

// The package's `exports` hide its package.json, so find it from the entry
// point (dist/index.js) upwards.
function packageVersion() {
  for (let dir = path.dirname(require.resolve(PACKAGE)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (manifest.name === PACKAGE) return manifest.version;
  }
  throw new Error(`cannot find the package.json of ${PACKAGE}`);
}

function requireClient(op) {
  if (!client) throw new Error(`${op} before configure`);
}

const ops = {
  hello(req) {
    if (req.protocol !== PROTOCOL) throw new Error(`this adapter speaks protocol ${PROTOCOL}, not ${JSON.stringify(req.protocol)}`);
    if (MISSING_API.length > 0) {
      throw new Error(`missing API: ${PACKAGE} ${packageVersion()} has no ${MISSING_API.join(', ')} (the adapter drives the 4.x API)`);
    }
    const answer = { protocol: PROTOCOL, sdk: { name: 'js-client', package: PACKAGE, version: packageVersion() }, capabilities: CAPABILITIES };
    if (HAS_API.online) answer.online = online.KNOBS;
    return answer;
  },
  async configure(req) {
    const flags = readSource(req.flags, 'flags');
    const bandits = req.bandits == null ? EMPTY_BANDIT_MODELS : readSource(req.bandits, 'bandits');
    const built = await buildClient(flags, bandits);
    const precomputedClient = req.precomputed == null ? null : await buildPrecomputedClient(readSource(req.precomputed, 'precomputed'));
    stopOnline();
    recorder.reset(false);
    client = built;
    precomputed = precomputedClient;
    return {};
  },
  evaluate(req) {
    requireClient('evaluate');
    if (!Array.isArray(req.cases)) throw new Error('evaluate needs a cases array');
    return { results: req.cases.map(evaluateOne) };
  },
  precompute(req) {
    requireClient('precompute');
    if (precomputed) throw new Error('precompute needs a flag configuration, not a precomputed one');
    if (typeof req.subjectKey !== 'string') throw new Error('precompute needs a subjectKey');
    // JSON text of the configuration-wire envelope, obfuscated; the core
    // takes flat or {numericAttributes, categoricalAttributes} attributes.
    const configuration = client.getPrecomputedConfiguration(
      req.subjectKey, req.subjectAttributes ?? {}, req.banditActions ?? {}, req.salt);
    return { configuration };
  },
  bench(req) {
    requireClient('bench');
    const call = benchCall(req);
    const iterations = Number(req.iterations);
    return recorder.muting(() => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) call(i);
      return { iterations, elapsedNs: Number(process.hrtime.bigint() - start) };
    });
  },
  // A later init replaces the client; the previous one stops polling first.
  async init(req) {
    if (!HAS_API.online) throw new Error(`${PACKAGE} ${packageVersion()} has no online client API`);
    stopOnline();
    recorder.reset(req.logger === 'throwing');
    const started = Date.now();
    const { client: built, starting } = online.startOnlineClient(core, req, { sdkVersion: packageVersion(), recorder });
    client = onlineClient = built;
    precomputed = null;
    if (req.waitForInit === false) {
      starting.catch((e) => console.error('js-client adapter: the SDK\'s first fetch failed:', e));
    } else {
      await starting; // rejects when the first fetch and its retry failed, as the browser SDK's init() does
    }
    return { initialized: built.isInitialized(), elapsedMs: Date.now() - started };
  },
  drainEvents() {
    return recorder.drain();
  },
  stopClient() {
    stopOnline();
    return {};
  },
};

// JSON has no NaN or infinities; the protocol spells them as strings.
const nonFiniteAsString = (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const reply = (message) => protocolOut(`${JSON.stringify(message, nonFiniteAsString)}\n`);

async function serve() {
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of input) {
    if (line.trim() === '') continue;
    let id = null;
    try {
      const req = JSON.parse(line);
      if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new Error('request is not a JSON object');
      id = req.id ?? null;
      if (req.op === 'shutdown') {
        stopOnline();
        reply({ id, ok: true });
        break;
      }
      if (!Object.hasOwn(ops, req.op)) throw new Error(`unknown op ${JSON.stringify(req.op)}`);
      reply({ id, ok: true, ...(await ops[req.op](req)) });
    } catch (e) {
      console.error('js-client adapter: request failed:', e);
      reply({ id, ok: false, error: String(e?.message ?? e) });
    }
  }
  stopOnline();
  process.exit(0);
}

serve();
