"""UFC harness adapter for the Python SDK (PyPI `eppo-server-sdk`).

Speaks protocol v1 (docs/protocol.md): one JSON request per line on stdin,
one JSON response per line on stdout. Everything else goes to stderr.

Offline loading: the SDK's own `initial_configuration` option takes the flag
and bandit files as bytes, and `poll_interval_seconds=None` starts no poller,
so the SDK never opens a connection.

Online (capability `online`, ops init / drainEvents / stopClient): `init`
builds the SDK's ordinary client with `base_url` pointed at the harness's
mock CDN and the poller on; `configure` and `shutdown` stop it.
"""

import gc
import os
import sys
import threading
import time
from importlib import metadata

# The helpers both Python adapters share live beside them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python-shared"))
import adapter_common  # noqa: E402
import sdk_log  # noqa: E402
import wire  # noqa: E402

# Stdout is the protocol channel: keep a private handle to it and send every
# stray print (ours or a library's) to stderr.
PROTOCOL_OUT = sys.stdout
sys.stdout = sys.stderr

import eppo_client  # noqa: E402
from eppo_client import AssignmentCacheLogger, AssignmentLogger, Configuration, ContextAttributes  # noqa: E402
from eppo_client.config import Config  # noqa: E402

PROTOCOL = 1
PACKAGE = "eppo-server-sdk"
CAPABILITIES = ["assign", "details", "events", "bandits", "bandit-details", "bench", "online"]
# The online knobs of eppo-server-sdk 4.x (ClientConfig and the Rust core's
# poller): poll_interval_seconds is a whole, nonzero number of seconds; the
# poller sleeps the interval minus a uniform draw from [0, poll_jitter_seconds]
# (default 3 s, saturating at zero). There is no start-up timeout, so
# initTimeout is not honoured: the adapter only bounds its own wait.
ONLINE = {
    "minPollIntervalMs": 1000,
    "pollGranularityMs": 1000,
    "pollJitter": "the interval minus a uniform draw from [0, 3 s] (poll_jitter_seconds, default 3), floored at 0",
    "options": ["pollInterval", "pollJitter", "assignmentCache", "banditCache", "throwingLogger", "sdkKey"],
}
# How long `init` waits for the first configuration when not told.
DEFAULT_INIT_WAIT_MS = 5000
TYPED = {"STRING": "string", "INTEGER": "integer", "NUMERIC": "numeric", "BOOLEAN": "boolean", "JSON": "json"}


class Discard:
    """Where a muted logger's events go."""

    def append(self, event):
        pass


DISCARD = Discard()


class RecordingLogger(AssignmentLogger):
    """Keeps what the SDK logs: during a case in that case's lists, at any
    other time (never, with this SDK, but the protocol asks) in `pending`,
    which drainEvents hands out. `muted` drops everything (bench loops).

    No assignment cache sits in front of it unless init asks for one (the
    SDK only deduplicates when wrapped in AssignmentCacheLogger), so every
    evaluation's event arrives. `throwing`: each call is kept, then raises.
    """

    def __init__(self, throwing=False):
        super().__init__()
        self.throwing = throwing
        self.pending_assignments, self.pending_bandits = [], []
        self.muted = False

    def route(self, assignments, bandits):
        """Send the events from now on to these lists. A logger that does
        not throw lets the lists' own `append` stand in for its methods:
        the SDK looks `log_assignment` up on the object for each event, and
        a builtin spares it two Python calls per event (0.2 us an event)."""
        self.assignments, self.bandits = assignments, bandits
        if not self.throwing:
            self.log_assignment, self.log_bandit_action = assignments.append, bandits.append

    def log_assignment(self, event):  # a throwing logger's (see route)
        self.assignments.append(event)
        if self.throwing and not self.muted:
            raise RuntimeError("harness: throwing logger")

    def log_bandit_action(self, event):
        self.bandits.append(event)
        if self.throwing and not self.muted:
            raise RuntimeError("harness: throwing logger")

    def route_pending(self):
        """Between cases: events go to `pending`."""
        self.route(self.pending_assignments, self.pending_bandits)

    def abandon(self, assignments, bandits):
        """A case raised: what it logged goes to `pending`, as no result reports it."""
        self.pending_assignments += assignments
        self.pending_bandits += bandits

    @property
    def muted(self):
        return self._muted

    @muted.setter
    def muted(self, muted):  # set by adapter_common.bench_loop
        self._muted = muted
        if muted:
            self.route(DISCARD, DISCARD)
        else:
            self.route_pending()

    def stop(self):  # adapter_common.bench_loop's: no case is running
        self.route_pending()

    def drain(self):
        # Each call left exactly one event in `pending` (muted ones none).
        out = {"assignmentEvents": self.pending_assignments, "banditEvents": self.pending_bandits,
               "loggerCalls": len(self.pending_assignments) + len(self.pending_bandits)}
        self.pending_assignments, self.pending_bandits = [], []
        self.route_pending()
        return out


logger = RecordingLogger()  # the current client's logger
client = None
online_client = None  # the client `init` built, while its poller may run


def load_json_bytes(source, what):
    """`{"path": FILE}` or `{"inline": OBJECT}` -> the bytes the SDK parses."""
    if not isinstance(source, dict):
        raise ValueError(f"{what} must be an object with 'path' or 'inline'")
    if "path" in source:
        with open(source["path"], "rb") as f:
            return f.read()
    if "inline" in source:
        return wire.dump_config(source["inline"], REQUESTS.non_finite)
    raise ValueError(f"{what} needs 'path' or 'inline'")


def shared_details(d):
    """Map the Rust core's details dict onto the shared test files' shape.

    The core lists every allocation with its code; the test shape splits them
    into the matched one, those rejected before it, and those never reached.
    The matched rule is the first rule the core reports as matched, rebuilt
    from the conditions it echoes. One pass over the allocations: this runs
    for every case, and the fuzzer sends hundreds of thousands.
    """
    if d is None:
        return None
    matched, rule, unmatched, unevaluated = None, None, [], []
    for a in d.get("allocations") or ():
        get = a.get
        code = get("allocationEvaluationCode")
        entry = {"key": get("key"), "allocationEvaluationCode": code, "orderPosition": get("orderPosition")}
        if code == "UNEVALUATED":
            unevaluated.append(entry)
        elif code != "MATCH":
            unmatched.append(entry)
        elif matched is None:
            matched = entry
            for r in get("evaluatedRules") or ():
                if r.get("matched"):
                    rule = {"conditions": [c.get("condition") for c in r.get("conditions") or ()]}
                    break
    get = d.get
    value = get("variationValue")  # {"type": ..., "value": ...} or None
    return {
        "environmentName": get("environmentName"),
        "flagEvaluationCode": get("flagEvaluationCode"),
        "flagEvaluationDescription": get("flagEvaluationDescription"),
        "banditKey": get("banditKey"),
        "banditAction": get("banditAction"),
        "variationKey": get("variationKey"),
        "variationValue": value.get("value") if isinstance(value, dict) else value,
        "matchedRule": rule,
        "matchedAllocation": matched,
        "unmatchedAllocations": unmatched,
        "unevaluatedAllocations": unevaluated,
    }


def typed_name(variation_type):  # bench's; evaluate uses typed_methods
    if variation_type not in TYPED:
        raise ValueError(f"unknown variationType {variation_type!r}")
    return TYPED[variation_type]


def typed_default(variation_type, default):
    # The NUMERIC methods take a Python float; JSON gives 0 for "0".
    if variation_type == "NUMERIC" and isinstance(default, int) and not isinstance(default, bool):
        return float(default)
    return default


def context(attrs):
    attrs = attrs or {}
    return ContextAttributes(numeric_attributes=attrs.get("numericAttributes") or {},
                             categorical_attributes=attrs.get("categoricalAttributes") or {})


def bandit_actions(actions):
    return {a["actionKey"]: context(a) for a in actions or []}


def typed_methods(c):
    """variationType -> `c`'s details method for it, looked up once a batch
    (a getattr of a formatted name per case cost 0.3 us)."""
    return {vt: getattr(c, f"get_{name}_assignment_details") for vt, name in TYPED.items()}


def evaluate_case(case, methods):
    """One case's value and details; the SDK's events go where `logger` routes them."""
    if not isinstance(case, dict):
        raise ValueError("case is not a JSON object")
    if case.get("kind") == "bandit":
        r = client.get_bandit_action_details(
            case["flag"], case["subjectKey"], context(case.get("subjectAttributes")),
            bandit_actions(case.get("actions")), case["defaultValue"])
        value = {"variation": r.variation, "action": r.action}
    elif case.get("kind") == "flag":
        variation_type = case["variationType"]
        method = methods.get(variation_type)
        if method is None:
            raise ValueError(f"unknown variationType {variation_type!r}")
        r = method(case["flag"], case["subjectKey"], case.get("subjectAttributes") or {},
                   typed_default(variation_type, case["defaultValue"]))
        value = r.variation
        if variation_type == "JSON" and wire.has_non_finite(value):
            value = adapter_common.finite(value)
    else:
        raise ValueError(f"unknown case kind {case.get('kind')!r}")
    return value, shared_details(r.evaluation_details)


def op_hello(req):
    if req.get("protocol") != PROTOCOL:
        raise ValueError(f"this adapter speaks protocol {PROTOCOL}, not {req.get('protocol')!r}")
    return {"protocol": PROTOCOL, "capabilities": CAPABILITIES, "online": ONLINE,
            "sdk": {"name": "python", "package": PACKAGE, "version": metadata.version(PACKAGE)}}


def op_configure(req):
    global client, logger
    stop_online()
    sdk_log.install(SDK_LOG)  # offline: no poller logs from another thread
    logger = RecordingLogger()
    flags = load_json_bytes(req.get("flags"), "flags")
    bandits = load_json_bytes(req["bandits"], "bandits") if req.get("bandits") is not None else None
    SDK_LOG.hold()  # the core warns about every condition it cannot parse
    try:
        configuration = Configuration(flags_configuration=flags, bandits_configuration=bandits)
    finally:
        SDK_LOG.release()
    client = eppo_client.init(Config(api_key="offline-harness", assignment_logger=logger,
                                     poll_interval_seconds=None, initial_configuration=configuration))
    return {}


def op_evaluate(req):
    """The results, with the non-finite floats the SDK can produce spelled
    as strings already, so orjson (which would write null) may write the
    answer when the request held none (see send's caller): the bandit
    events (the SDK computes scores and probabilities for them, which
    extreme coefficients overflow) and a JSON flag's value (the SDK parses
    those strings itself) are walked. Other values, the details and the
    assignment events come from the configuration as the SDK's core read
    it, as strict JSON, or echo the request."""
    if client is None:
        raise ValueError("evaluate before configure")
    methods, results = typed_methods(client), []
    SDK_LOG.hold()
    try:
        for case in req["cases"]:
            assignments, bandits = [], []
            logger.route(assignments, bandits)
            try:
                value, details = evaluate_case(case, methods)
            # One bad case must not sink the batch. BaseException too: a panic in
            # the SDK's Rust core surfaces as pyo3's PanicException, which is
            # not an Exception, and it is the SDK's answer for this case.
            except BaseException as e:
                logger.abandon(assignments, bandits)
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                cid = case.get("caseId") if isinstance(case, dict) else None
                results.append({"caseId": cid, "error": f"{type(e).__name__}: {e}"})
                continue
            if bandits and wire.has_non_finite(bandits):
                bandits = adapter_common.finite(bandits)
            results.append({"caseId": case.get("caseId"), "value": value, "details": details,
                            "assignmentEvents": assignments, "banditEvents": bandits})
    finally:
        logger.route_pending()
        SDK_LOG.release()
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
    elif mode in ("assign", "details"):
        suffix = "_details" if mode == "details" else ""
        call = getattr(client, f"get_{typed_name(req['variationType'])}_assignment{suffix}")
        default = typed_default(req["variationType"], default)
        args = [(s["subjectKey"], s.get("subjectAttributes") or {}) for s in subjects]
    else:
        raise ValueError(f"unknown bench mode {mode!r}")
    return adapter_common.bench_loop(logger, call, flag, args, default, n)


def stop_online():
    """Stop the online client's poller (waiting for its thread); it keeps
    serving its last configuration."""
    global online_client
    if online_client is not None:
        online_client.shutdown()
        online_client = None


def op_init(req):
    """The SDK's server client polling req["baseUrl"] (see ONLINE)."""
    global client, logger, online_client
    stop_online()
    sdk_log.uninstall(SDK_LOG)
    logger, kwargs = adapter_common.recorder_and_config(req, RecordingLogger, AssignmentCacheLogger)
    # Proxy variables must not divert the SDK's requests meant for a loopback CDN.
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    started = time.monotonic()
    # eppo_client.init shuts the previous singleton down itself.
    client = online_client = eppo_client.init(Config(**kwargs))
    if req.get("waitForInit", True):
        wait_for_initialization(client, req.get("initTimeoutMs") or DEFAULT_INIT_WAIT_MS)
    return {"initialized": client.is_initialized(), "elapsedMs": round((time.monotonic() - started) * 1000)}


def wait_for_initialization(c, timeout_ms):
    """The SDK's wait has no timeout (it returns on the first good fetch and
    raises once the poller gives up, on 401); a thread bounds it."""
    outcome = []

    def wait():
        try:
            c.wait_for_initialization()
            outcome.append(None)
        except Exception as e:  # the SDK's verdict, passed to the caller
            outcome.append(e)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    waiter.join(timeout_ms / 1000)
    if outcome and outcome[0] is not None:
        raise outcome[0]


def op_drain_events(req):
    return logger.drain()


def op_stop_client(req):
    stop_online()
    return {}


OPS = {"hello": op_hello, "configure": op_configure, "evaluate": op_evaluate, "bench": op_bench,
       "init": op_init, "drainEvents": op_drain_events, "stopClient": op_stop_client}


REQUESTS = wire.Requests()
SDK_LOG = sdk_log.install()


def send(msg, finite_only=False):
    PROTOCOL_OUT.buffer.write(wire.encode(msg, finite_only))
    PROTOCOL_OUT.flush()


def send_answer(msg, op):
    # Only an evaluate's answer is known to be finite (see op_evaluate);
    # a drain hands out events of earlier requests.
    send(msg, op == "evaluate" and not REQUESTS.non_finite)


def main():
    # The collector runs between requests, not on its own: its automatic
    # passes came while a batch's hundred thousand objects were alive and
    # walked them again and again (about 3 us a case). Reference counting frees a
    # request's objects when handle() returns (the adapter makes no cycles
    # of its own); a pass then finds only what else made cycles, and the
    # start-up's objects are frozen out of it.
    gc.freeze()
    gc.disable()
    for line in sys.stdin.buffer:  # bytes: orjson reads them without a decoded copy
        if not line.strip():
            continue
        if not adapter_common.handle(line, REQUESTS.parse, OPS, send_answer, stop_online):
            return
        gc.collect()


if __name__ == "__main__":
    main()
    stop_online()  # stdin closed: the poller must not outlive the process's answers
    sys.exit(0)
