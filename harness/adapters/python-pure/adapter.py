"""UFC harness adapter for eppo-server-sdk 3.7.0, the pure-Python evaluator.

Speaks protocol v1 (docs/protocol.md): one JSON request per line on stdin,
one JSON response per line on stdout. Everything else goes to stderr.

3.7.0 is the last release before 4.0 moved the Python SDK onto the Rust
core; its evaluator (`eppo_client.eval`, `rules`, `bandit`) is Python.

Loading: 3.7.0's `initial_configuration` takes flags only, and bandit models
reach the SDK only through its HTTP fetch. So the adapter serves both files
on a loopback port (127.0.0.1, nothing else) and lets the SDK load them with
its own fetch-and-store code. `eppo_client.init()` would fetch only from its
poller thread, so the adapter assembles the same parts `init()` assembles
(HTTP client, the two stores, the requestor, `EppoClient` with no poller)
and runs the poller's callback, `fetch_and_store_configurations()`, once,
synchronously: the same requests and parsing as the SDK's first poll.

Online (capability `online`, ops init / drainEvents / stopClient): `init`
calls `eppo_client.init()` itself, the SDK's ordinary client with its poller
thread, against the harness's mock CDN; `configure` and `shutdown` stop it.
"""

import json
import logging
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from urllib.parse import urlsplit

# The helpers both Python adapters share live beside them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python-shared"))
import adapter_common  # noqa: E402

# Stdout is the protocol channel: keep a private handle to it and send every
# stray print (ours or a library's) to stderr.
PROTOCOL_OUT = sys.stdout
sys.stdout = sys.stderr
logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="[%(name)s %(levelname)s] %(message)s")
# The SDK's `requests` session honours proxy variables; the loopback server
# must be reached directly.
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, [os.environ.get(_name), "127.0.0.1"]))

from eppo_client import (  # noqa: E402
    ConfigurationStore,
    EppoClient,
    ExperimentConfigurationRequestor,
    HttpClient,
    SdkParams,
    __version__ as SDK_VERSION,
)
import eppo_client.http_client  # noqa: E402
from eppo_client.assignment_logger import AssignmentCacheLogger, AssignmentLogger  # noqa: E402
from eppo_client.config import Config  # noqa: E402
from eppo_client.bandit import ContextAttributes  # noqa: E402

# The SDK gives each fetch 2 s (`REQUEST_TIMEOUT_SECONDS`, read at every
# request). Over loopback on a loaded machine that can run out, and the SDK
# would then quietly serve defaults; the adapter gives it longer offline.
# Online, the SDK's own timeout is part of what scenarios check.
SDK_REQUEST_TIMEOUT_SECONDS = eppo_client.http_client.REQUEST_TIMEOUT_SECONDS
OFFLINE_REQUEST_TIMEOUT_SECONDS = 60
eppo_client.http_client.REQUEST_TIMEOUT_SECONDS = OFFLINE_REQUEST_TIMEOUT_SECONDS

PROTOCOL = 1
PACKAGE = "eppo-server-sdk"
# No `details`/`bandit-details`: 3.7.0 has no evaluation-details API (its
# `get_assignment_detail` returns an internal FlagEvaluation without codes
# or allocation lists), and `bandit-details` means details and bandit events
# together. No `obfuscated`: it reads SERVER configurations only. No
# `precompute`: no such API.
CAPABILITIES = ["assign", "events", "bandits", "bench", "online"]
# The online knobs of 3.7.0 (Config, eppo_client.poller): poll_interval_seconds
# in whole seconds (default 300); each wait is the interval minus
# randrange(0, poll_jitter_seconds * 1000) ms (default jitter 30 s), and a
# negative wait returns at once; a jitter of 0 makes randrange raise, which
# ends the poller thread after its first fetch. No start-up wait or timeout
# (each request has a fixed 2 s timeout), so initTimeout is not honoured:
# the adapter only bounds its own wait for is_initialized().
ONLINE = {
    "minPollIntervalMs": 1000,
    "pollGranularityMs": 1000,
    "pollJitter": "the interval minus a uniform draw from [0, 30 s) (poll_jitter_seconds, default 30); "
                  "a negative wait polls at once",
    "options": ["pollInterval", "pollJitter", "assignmentCache", "banditCache", "throwingLogger", "sdkKey"],
}
# How long `init` waits for the first configuration when not told.
DEFAULT_INIT_WAIT_MS = 5000
TYPED = {"STRING": "string", "INTEGER": "integer", "NUMERIC": "numeric", "BOOLEAN": "boolean", "JSON": "json"}
NO_BANDITS = b'{"bandits": {}, "updatedAt": "1970-01-01T00:00:00Z"}'


class RecordingLogger(AssignmentLogger):
    """Keeps a snapshot of what the SDK logs: during a case in that case's
    lists, at any other time in `pending` for drainEvents; `muted` (bench
    loops) drops everything; `throwing`: each call is kept, then raises.

    3.7.0 deduplicates only when the logger is wrapped in
    AssignmentCacheLogger (online init does that on request), so every
    evaluation's event arrives. The snapshot (a JSON round trip) keeps an
    event as it was when logged.
    """

    def __init__(self, throwing=False):
        super().__init__()
        self.throwing, self.recording, self.muted = throwing, False, False
        self.assignments, self.bandits = [], []
        self.pending = {"assignmentEvents": [], "banditEvents": [], "loggerCalls": 0}

    def _keep(self, event, case_list, pending_key):
        if self.muted:
            return
        if self.recording:
            case_list.append(snapshot(event))
        else:
            self.pending[pending_key].append(snapshot(event))
            self.pending["loggerCalls"] += 1
        if self.throwing:
            raise RuntimeError("harness: throwing logger")

    def log_assignment(self, assignment_event):
        self._keep(assignment_event, self.assignments, "assignmentEvents")

    def log_bandit_action(self, bandit_event):
        self._keep(bandit_event, self.bandits, "banditEvents")

    def start(self):
        self.assignments, self.bandits, self.recording, self.muted = [], [], True, False

    def stop(self):
        self.recording = False
        return self.assignments, self.bandits

    def abandon(self):
        """The case raised: what it logged goes to `pending`, as no result reports it."""
        assignments, bandits = self.stop()
        self.pending["assignmentEvents"] += assignments
        self.pending["banditEvents"] += bandits
        self.pending["loggerCalls"] += len(assignments) + len(bandits)

    def drain(self):
        drained, self.pending = self.pending, {"assignmentEvents": [], "banditEvents": [], "loggerCalls": 0}
        return drained


def snapshot(event):
    return json.loads(json.dumps(adapter_common.finite(event), default=repr, allow_nan=False))


class ConfigurationServer:
    """The loopback stand-in for Eppo's CDN: serves the configured files."""

    FLAGS_PATH = "/api/flag-config/v1/config"
    BANDITS_PATH = "/api/flag-config/v1/bandits"

    def __init__(self):
        self.flags = None
        self.bandits = None
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = urlsplit(self.path).path
                owner.requests.append(path)
                if path == owner.FLAGS_PATH:
                    body = owner.flags
                elif path == owner.BANDITS_PATH:
                    # No bandit file means no bandit models, not a failed fetch.
                    body = owner.bandits if owner.bandits is not None else NO_BANDITS
                else:
                    body = None
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                payload = body if body is not None else b"not found"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args):  # quiet: stderr is for faults
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api"


class CheckedHttpClient(HttpClient):
    """The SDK's HTTP client, noting every fetch that failed.

    The SDK logs and swallows fetch errors as it does parse errors; the
    adapter must tell them apart: a file the SDK rejects is its answer, a
    fetch that never arrived is a fault of the set-up.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.failures = []

    def get(self, resource):
        try:
            return super().get(resource)
        except Exception as e:
            self.failures.append(f"{resource}: {type(e).__name__}: {e}")
            raise


logger = RecordingLogger()  # the current client's logger
SERVER = None
client = None
online_client = None  # the client `init` built, while its poller thread may run


def load_json_bytes(source, what):
    """`{"path": FILE}` or `{"inline": OBJECT}` -> the bytes to serve."""
    if not isinstance(source, dict):
        raise ValueError(f"{what} must be an object with 'path' or 'inline'")
    if "path" in source:
        with open(source["path"], "rb") as f:
            return f.read()
    if "inline" in source:
        return json.dumps(source["inline"]).encode()
    raise ValueError(f"{what} needs 'path' or 'inline'")


def new_client(base_url):
    """What `eppo_client.init()` builds, with no poller; then one fetch."""
    http_client = CheckedHttpClient(base_url=base_url,
                                    sdk_params=SdkParams(apiKey="offline-harness", sdkName="python", sdkVersion=SDK_VERSION))
    requestor = ExperimentConfigurationRequestor(http_client=http_client, flag_config_store=ConfigurationStore(),
                                                 bandit_config_store=ConfigurationStore())
    sdk_client = EppoClient(config_requestor=requestor, assignment_logger=logger, is_graceful_mode=True,
                            poll_interval_seconds=None)
    # The poller's callback. It logs and swallows its own errors: a file the
    # SDK cannot parse leaves it with no flags (or no bandits), and it then
    # serves defaults, as it would in production.
    requestor.fetch_and_store_configurations()
    if http_client.failures:
        raise RuntimeError("the SDK could not fetch its configuration from the loopback server: "
                           + "; ".join(http_client.failures))
    return sdk_client


def typed_name(variation_type):
    if variation_type not in TYPED:
        raise ValueError(f"unknown variationType {variation_type!r}")
    return TYPED[variation_type]


def context(attrs):
    attrs = attrs or {}
    return ContextAttributes(numeric_attributes=attrs.get("numericAttributes") or {},
                             categorical_attributes=attrs.get("categoricalAttributes") or {})


def bandit_actions(actions):
    return {a["actionKey"]: context(a) for a in actions or []}


def evaluate_case(case):
    if not isinstance(case, dict):
        raise ValueError("case is not a JSON object")
    logger.start()
    try:
        if case.get("kind") == "bandit":
            r = client.get_bandit_action(case["flag"], case["subjectKey"], context(case.get("subjectAttributes")),
                                         bandit_actions(case.get("actions")), case["defaultValue"])
            value = {"variation": r.variation, "action": r.action}
        elif case.get("kind") == "flag":
            method = getattr(client, f"get_{typed_name(case['variationType'])}_assignment")
            value = method(case["flag"], case["subjectKey"], case.get("subjectAttributes") or {},
                           case["defaultValue"])
        else:
            raise ValueError(f"unknown case kind {case.get('kind')!r}")
    except BaseException:
        logger.abandon()
        raise
    assignments, bandits = logger.stop()
    return {"caseId": case.get("caseId"), "value": value, "details": None,
            "assignmentEvents": assignments, "banditEvents": bandits}


def op_hello(req):
    if req.get("protocol") != PROTOCOL:
        raise ValueError(f"this adapter speaks protocol {PROTOCOL}, not {req.get('protocol')!r}")
    return {"protocol": PROTOCOL, "capabilities": CAPABILITIES, "online": ONLINE,
            "sdk": {"name": "python-pure", "package": PACKAGE, "version": metadata.version(PACKAGE)}}


def op_configure(req):
    global client, SERVER, logger
    stop_online()
    eppo_client.http_client.REQUEST_TIMEOUT_SECONDS = OFFLINE_REQUEST_TIMEOUT_SECONDS
    logger = RecordingLogger()
    flags = load_json_bytes(req.get("flags"), "flags")
    bandits = load_json_bytes(req["bandits"], "bandits") if req.get("bandits") is not None else None
    if SERVER is None:
        SERVER = ConfigurationServer()
    SERVER.flags, SERVER.bandits = flags, bandits
    client = None  # a failed configure must not leave the previous one in place
    client = new_client(SERVER.base_url)
    if not client.is_initialized():
        print("adapter: the SDK stored no flag configuration (it rejected the file; see its log above);"
              " it serves defaults", file=sys.stderr)
    return {}


def op_evaluate(req):
    if client is None:
        raise ValueError("evaluate before configure")
    results = []
    for case in req["cases"]:
        try:
            results.append(evaluate_case(case))
        # One bad case must not sink the batch: what the SDK raised is its
        # answer for this case (3.7.0 lets ValueError through graceful mode,
        # e.g. for a blank subject key, and parses JSON values outside it).
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:
            cid = case.get("caseId") if isinstance(case, dict) else None
            results.append({"caseId": cid, "error": f"{type(e).__name__}: {e}"})
    return {"results": results}


def op_bench(req):
    if client is None:
        raise ValueError("bench before configure")
    mode, flag, default = req["mode"], req["flag"], req["defaultValue"]
    subjects, n = req["subjects"], int(req["iterations"])
    if not subjects:
        raise ValueError("bench needs at least one subject")
    if mode == "bandit":
        call = client.get_bandit_action
        args = [(s["subjectKey"], context(s.get("subjectAttributes")), bandit_actions(req.get("actions")))
                for s in subjects]
    elif mode == "assign":
        call = getattr(client, f"get_{typed_name(req['variationType'])}_assignment")
        args = [(s["subjectKey"], s.get("subjectAttributes") or {}) for s in subjects]
    else:
        raise ValueError(f"bench mode {mode!r} is not offered: 3.7.0 has no details call")
    # The SDK still builds every event and hands it to the logger, which
    # drops it while muted.
    return adapter_common.bench_loop(logger, call, flag, args, default, n)


def stop_online():
    """Stop the online client's poller thread (it ends after its current
    fetch or wait); the client keeps serving its last configuration."""
    global online_client
    if online_client is not None:
        online_client._shutdown()  # 3.7.0's only stop, used by init() itself
        # It only sets the thread's stop event; a fetch under way still
        # reaches the CDN. Wait for it (bounded), so that what arrives after
        # stopClient is the SDK polling on, not the last fetch finishing.
        poller = getattr(online_client, "_EppoClient__poller", None)
        thread = getattr(poller, "_Poller__thread", None)
        if thread is not None:
            thread.join(SDK_REQUEST_TIMEOUT_SECONDS + 1)
        online_client = None


def op_init(req):
    """`eppo_client.init()` polling req["baseUrl"] (see ONLINE)."""
    global client, logger, online_client
    stop_online()
    logger, kwargs = adapter_common.recorder_and_config(req, RecordingLogger, AssignmentCacheLogger)
    eppo_client.http_client.REQUEST_TIMEOUT_SECONDS = SDK_REQUEST_TIMEOUT_SECONDS
    started = time.monotonic()
    client = online_client = eppo_client.init(Config(**kwargs))
    if req.get("waitForInit", True):
        # 3.7.0 has no wait: its poller thread fetches first thing.
        deadline = started + (req.get("initTimeoutMs") or DEFAULT_INIT_WAIT_MS) / 1000
        while not client.is_initialized() and time.monotonic() < deadline:
            time.sleep(0.01)
    return {"initialized": client.is_initialized(), "elapsedMs": round((time.monotonic() - started) * 1000)}


OPS = {
    "hello": op_hello, "configure": op_configure, "evaluate": op_evaluate, "bench": op_bench, "init": op_init,
    "drainEvents": lambda req: logger.drain(),  # the current logger, read at each call
    "stopClient": lambda req: stop_online() or {},
}


def send(msg):
    PROTOCOL_OUT.write(json.dumps(adapter_common.finite(msg), default=repr, allow_nan=False) + "\n")
    PROTOCOL_OUT.flush()


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        if not adapter_common.handle(line, json.loads, OPS, lambda msg, _op: send(msg), stop_online):
            return


if __name__ == "__main__":
    main()
    stop_online()
    sys.exit(0)
