// The online client of the js-client adapter (capability `online`,
// docs/protocol.md section 7): an EppoClient that fetches and polls its own
// configuration from the harness's mock CDN, through the core's own
// FetchHttpClient, ApiEndpoints, ConfigurationRequestor and poller, set up
// the way the browser SDK's `init()` sets up the same core.
'use strict';

// The client methods the online client is built from; a release without
// one of them does not declare `online`.
const ONLINE_API = ['fetchFlagConfigurations', 'stopPolling', 'setConfigurationRequestParameters',
  'useNonExpiringInMemoryAssignmentCache', 'useNonExpiringInMemoryBanditAssignmentCache'];

function hasOnlineApi(core) {
  const api = core.EppoClient?.prototype ?? {};
  return ONLINE_API.every((method) => typeof api[method] === 'function')
    && typeof core.validation?.validateNotBlank === 'function';
}

// What the core does with the init options (its poller, src/poller.ts): any
// positive pollingIntervalMs (0 or less falls back to 30 s); a regular poll
// is set for exactly the interval after the previous one finished (no
// jitter); a retry after a failure waits 2^failures x the interval plus
// 5-10% of it, and the first fetch is retried once after 5-10% of the
// interval. requestTimeoutMs (default 5000) aborts every fetch, the first
// ones included: it is the start-up timeout initTimeoutMs sets. The caches
// are the core's own dedup caches.
const KNOBS = {
  minPollIntervalMs: 1,
  pollJitter: 'none on regular polls (each set the interval after the previous one ended); a retry after a failure waits 2^failures x the interval plus 5-10% of it',
  options: ['pollInterval', 'initTimeout', 'assignmentCache', 'banditCache', 'throwingLogger', 'sdkKey'],
};

// The core is not an SDK of its own: the requests name it as itself, where
// the browser SDK sends `js-client-sdk` and its own version.
const SDK_NAME = 'js-client-sdk-common';

// The core's FlagConfigurationRequestParameters for an `init` request, as
// the browser SDK's init() passes them: polling after a successful start
// switched on (the browser SDK's default is off, and the harness asks for
// polling), everything else left at the browser SDK's defaults (in
// particular pollAfterFailedInitialization: false), and the first fetch's
// failure raised, as the browser SDK's init() raises it.
function requestParameters(core, req, sdkVersion) {
  if (!Number.isInteger(req.pollIntervalMs) || req.pollIntervalMs < 1) {
    throw new Error(`pollIntervalMs must be a positive integer, not ${JSON.stringify(req.pollIntervalMs)}`);
  }
  if (typeof req.baseUrl !== 'string' || req.baseUrl === '') throw new Error('init needs a baseUrl');
  if (typeof req.sdkKey !== 'string') throw new Error('init needs an sdkKey string');
  // The browser SDK's init() refuses an empty key with this check of the core's.
  core.validation.validateNotBlank(req.sdkKey, 'API key required');
  if (req.initTimeoutMs != null && !(Number.isInteger(req.initTimeoutMs) && req.initTimeoutMs > 0)) {
    throw new Error(`initTimeoutMs must be a positive integer, not ${JSON.stringify(req.initTimeoutMs)}`);
  }
  const parameters = {
    apiKey: req.sdkKey,
    sdkName: SDK_NAME,
    sdkVersion,
    // The core appends /flag-config/v1/config to a base that ends in /api.
    baseUrl: `${req.baseUrl.replace(/\/$/, '')}/api`,
    pollingIntervalMs: req.pollIntervalMs,
    pollAfterSuccessfulInitialization: true,
    throwOnFailedInitialization: true,
  };
  if (req.initTimeoutMs != null) parameters.requestTimeoutMs = req.initTimeoutMs;
  return parameters;
}

// Builds the client and starts its first fetch (and, after it, the poller).
// Returns the client, usable at once (it serves defaults until a
// configuration arrives), and the promise of that start, which rejects when
// the first fetch and its retry failed.
function startOnlineClient(core, req, { sdkVersion, recorder }) {
  const client = new core.EppoClient({
    flagConfigurationStore: new core.MemoryOnlyConfigurationStore(),
    banditVariationConfigurationStore: new core.MemoryOnlyConfigurationStore(),
    banditModelConfigurationStore: new core.MemoryOnlyConfigurationStore(),
    configurationRequestParameters: requestParameters(core, req, sdkVersion),
  });
  client.setAssignmentLogger(recorder.assignmentLogger);
  client.setBanditLogger(recorder.banditLogger);
  // The browser SDK's init() installs a non-expiring in-memory assignment
  // cache (backed by local storage where there is one); it sets no bandit
  // cache, so the core's non-expiring one stands for it when asked.
  if (req.assignmentCache) client.useNonExpiringInMemoryAssignmentCache();
  if (req.banditCache) client.useNonExpiringInMemoryBanditAssignmentCache();
  // fetchFlagConfigurations sets up its requestor and poller before its
  // first await, so the client reads from the poller's stores from here on.
  const starting = client.fetchFlagConfigurations();
  return { client, starting };
}

module.exports = { KNOBS, hasOnlineApi, startOnlineClient };
