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

import json
import math
import os
import sys
import threading
import time
from importlib import metadata

# The helpers both Python adapters share live beside them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python-shared"))
import adapter_common  # noqa: E402

# Stdout is the protocol channel: keep a private handle to it and send every
# stray print (ours or a library's) to stderr.
PROTOCOL_OUT = sys.stdout
sys.stdout = sys.stderr

import eppo_client  # noqa: E402
try:  # installed beside the SDK: writing answers with json costs as much as evaluating them
    import orjson  # noqa: E402
except ImportError:  # a venv made before the adapter asked for it: json alone, slower
    orjson = None
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
        self.recording = False
        self.muted = False
        self.assignments, self.bandits = [], []
        self.pending_assignments, self.pending_bandits, self.pending_calls = [], [], 0

    def _keep(self, event, case_list, pending_list):
        if self.muted:
            return
        if self.recording:
            case_list.append(event)
        else:
            pending_list.append(event)
            self.pending_calls += 1
        if self.throwing:
            raise RuntimeError("harness: throwing logger")

    def log_assignment(self, event):
        self._keep(event, self.assignments, self.pending_assignments)

    def log_bandit_action(self, event):
        self._keep(event, self.bandits, self.pending_bandits)

    def start(self):
        self.assignments, self.bandits, self.recording, self.muted = [], [], True, False

    def stop(self):
        self.recording = False
        return self.assignments, self.bandits

    def abandon(self):
        """The case raised: what it logged goes to `pending`, as no result reports it."""
        assignments, bandits = self.stop()
        self.pending_assignments += assignments
        self.pending_bandits += bandits
        self.pending_calls += len(assignments) + len(bandits)

    def drain(self):
        out = {"assignmentEvents": self.pending_assignments, "banditEvents": self.pending_bandits,
               "loggerCalls": self.pending_calls}
        self.pending_assignments, self.pending_bandits, self.pending_calls = [], [], 0
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
        return json.dumps(source["inline"]).encode()
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
        code = a.get("allocationEvaluationCode")
        entry = {"key": a.get("key"), "allocationEvaluationCode": code, "orderPosition": a.get("orderPosition")}
        if code == "UNEVALUATED":
            unevaluated.append(entry)
        elif code == "MATCH" and matched is None:
            matched = entry
            for r in a.get("evaluatedRules") or ():
                if r.get("matched"):
                    rule = {"conditions": [c.get("condition") for c in r.get("conditions") or ()]}
                    break
        elif code != "MATCH":
            unmatched.append(entry)
    value = d.get("variationValue")  # {"type": ..., "value": ...} or None
    return {
        "environmentName": d.get("environmentName"),
        "flagEvaluationCode": d.get("flagEvaluationCode"),
        "flagEvaluationDescription": d.get("flagEvaluationDescription"),
        "banditKey": d.get("banditKey"),
        "banditAction": d.get("banditAction"),
        "variationKey": d.get("variationKey"),
        "variationValue": value.get("value") if isinstance(value, dict) else value,
        "matchedRule": rule,
        "matchedAllocation": matched,
        "unmatchedAllocations": unmatched,
        "unevaluatedAllocations": unevaluated,
    }


def typed_name(variation_type):
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


def evaluate_case(case):
    if not isinstance(case, dict):
        raise ValueError("case is not a JSON object")
    logger.start()
    try:
        if case.get("kind") == "bandit":
            r = client.get_bandit_action_details(
                case["flag"], case["subjectKey"], context(case.get("subjectAttributes")),
                bandit_actions(case.get("actions")), case["defaultValue"])
            value = {"variation": r.variation, "action": r.action}
        elif case.get("kind") == "flag":
            method = getattr(client, f"get_{typed_name(case['variationType'])}_assignment_details")
            r = method(case["flag"], case["subjectKey"], case.get("subjectAttributes") or {},
                       typed_default(case["variationType"], case["defaultValue"]))
            value = r.variation
        else:
            raise ValueError(f"unknown case kind {case.get('kind')!r}")
        details = shared_details(r.evaluation_details)
    except BaseException:
        logger.abandon()
        raise
    assignments, bandits = logger.stop()
    return {"caseId": case.get("caseId"), "value": value, "details": details,
            "assignmentEvents": assignments, "banditEvents": bandits}


def op_hello(req):
    if req.get("protocol") != PROTOCOL:
        raise ValueError(f"this adapter speaks protocol {PROTOCOL}, not {req.get('protocol')!r}")
    return {"protocol": PROTOCOL, "capabilities": CAPABILITIES, "online": ONLINE,
            "sdk": {"name": "python", "package": PACKAGE, "version": metadata.version(PACKAGE)}}


def op_configure(req):
    global client, logger
    stop_online()
    logger = RecordingLogger()
    flags = load_json_bytes(req.get("flags"), "flags")
    bandits = load_json_bytes(req["bandits"], "bandits") if req.get("bandits") is not None else None
    configuration = Configuration(flags_configuration=flags, bandits_configuration=bandits)
    client = eppo_client.init(Config(api_key="offline-harness", assignment_logger=logger,
                                     poll_interval_seconds=None, initial_configuration=configuration))
    return {}


def op_evaluate(req):
    if client is None:
        raise ValueError("evaluate before configure")
    results = []
    for case in req["cases"]:
        try:
            results.append(evaluate_case(case))
        # One bad case must not sink the batch. BaseException too: a panic in
        # the SDK's Rust core surfaces as pyo3's PanicException, which is
        # not an Exception, and it is the SDK's answer for this case.
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


def finite(value):
    """JSON has no NaN or infinities; the protocol spells them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


class Requests:
    """Parses request lines, noting whether one held a number that is not
    finite (`NaN`, `Infinity`, or a literal too large for a double): the
    hooks run only for those spellings and for fractional numbers."""

    def __init__(self):
        self.non_finite = False
        self.decoder = json.JSONDecoder(parse_constant=self._constant, parse_float=self._float)

    def _constant(self, name):
        self.non_finite = True
        return float(name)

    def _float(self, text):
        value = float(text)
        if not math.isfinite(value):
            self.non_finite = True
        return value

    def parse(self, line):
        self.non_finite = False
        return self.decoder.decode(line)


REQUESTS = Requests()


def send(msg, finite_only=False):
    """Write one answer line. `finite_only`: nothing in `msg` can be a
    non-finite float, so orjson (which writes them as null, silently) may
    write it; it refuses integers beyond 64 bits, which take the json path."""
    if finite_only and orjson is not None:
        try:
            PROTOCOL_OUT.buffer.write(orjson.dumps(msg, default=repr) + b"\n")
            PROTOCOL_OUT.flush()
            return
        except TypeError:
            pass
    # Walking every answer for non-finite numbers costs as much as the
    # evaluation itself; they are rare, so the walk is only the fallback.
    try:
        text = json.dumps(msg, default=repr, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(finite(msg), default=repr, allow_nan=False, separators=(",", ":"))
    PROTOCOL_OUT.write(text + "\n")
    PROTOCOL_OUT.flush()


def only_finite(req, answer):
    """Whether `answer` (to `req`) can hold only finite
    floats, checked where they can come from without walking it all: it is an
    `evaluate` (a drain hands out events of earlier requests); none came in
    with the request; no bandit case was asked (the SDK computes scores and
    probabilities there, which extreme coefficients overflow); and no JSON
    flag's value is one (the SDK parses those strings itself). Other values
    and the details come from the configuration as the SDK's core read it,
    as strict JSON."""
    if req.get("op") != "evaluate" or REQUESTS.non_finite:
        return False
    for case, result in zip(req.get("cases") or (), answer.get("results") or ()):
        if not isinstance(case, dict) or case.get("kind") == "bandit":
            return False
        # `finite` spells what is not finite as a string, so the copy then differs.
        if case.get("variationType") == "JSON" and finite(result.get("value")) != result.get("value"):
            return False
    return True


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req_id = None
        try:
            req = REQUESTS.parse(line)
            if not isinstance(req, dict):
                raise ValueError("request is not a JSON object")
            req_id = req.get("id")
            if req.get("op") == "shutdown":
                stop_online()
                send({"id": req_id, "ok": True})
                return
            if req.get("op") not in OPS:
                raise ValueError(f"unknown op {req.get('op')!r}")
            answer = {"id": req_id, "ok": True, **OPS[req["op"]](req)}
            send(answer, only_finite(req, answer))
        except Exception as e:
            print(f"adapter: request failed: {type(e).__name__}: {e}", file=sys.stderr)
            send({"id": req_id, "ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
    stop_online()  # stdin closed: the poller must not outlive the process's answers
    sys.exit(0)
