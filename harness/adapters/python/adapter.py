"""UFC harness adapter for the Python SDK (PyPI `eppo-server-sdk`).

Speaks protocol v1 (docs/protocol.md): one JSON request per line on stdin,
one JSON response per line on stdout. Everything else goes to stderr.

Offline loading: the SDK's own `initial_configuration` option takes the flag
and bandit files as bytes, and `poll_interval_seconds=None` starts no poller,
so the SDK never opens a connection.
"""

import json
import math
import sys
import time
from importlib import metadata

# Stdout is the protocol channel: keep a private handle to it and send every
# stray print (ours or a library's) to stderr.
PROTOCOL_OUT = sys.stdout
sys.stdout = sys.stderr

import eppo_client  # noqa: E402
from eppo_client import AssignmentLogger, Configuration, ContextAttributes  # noqa: E402
from eppo_client.config import Config  # noqa: E402

PROTOCOL = 1
PACKAGE = "eppo-server-sdk"
CAPABILITIES = ["assign", "details", "events", "bandits", "bandit-details", "bench"]
TYPED = {"STRING": "string", "INTEGER": "integer", "NUMERIC": "numeric", "BOOLEAN": "boolean", "JSON": "json"}


class RecordingLogger(AssignmentLogger):
    """Keeps what the SDK logs while `recording` is on; drops it otherwise.

    No assignment cache sits in front of it (the SDK only deduplicates when
    wrapped in AssignmentCacheLogger), so every evaluation's event arrives.
    """

    def __init__(self):
        super().__init__()
        self.recording = False
        self.assignments, self.bandits = [], []

    def log_assignment(self, event):
        if self.recording:
            self.assignments.append(event)

    def log_bandit_action(self, event):
        if self.recording:
            self.bandits.append(event)

    def start(self):
        self.assignments, self.bandits, self.recording = [], [], True

    def stop(self):
        self.recording = False
        return self.assignments, self.bandits


LOGGER = RecordingLogger()
client = None


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
    LOGGER.start()
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
    finally:
        assignments, bandits = LOGGER.stop()
    return {"caseId": case.get("caseId"), "value": value, "details": details,
            "assignmentEvents": assignments, "banditEvents": bandits}


def op_hello(req):
    if req.get("protocol") != PROTOCOL:
        raise ValueError(f"this adapter speaks protocol {PROTOCOL}, not {req.get('protocol')!r}")
    return {"protocol": PROTOCOL, "capabilities": CAPABILITIES,
            "sdk": {"name": "python", "package": PACKAGE, "version": metadata.version(PACKAGE)}}


def op_configure(req):
    global client
    flags = load_json_bytes(req.get("flags"), "flags")
    bandits = load_json_bytes(req["bandits"], "bandits") if req.get("bandits") is not None else None
    configuration = Configuration(flags_configuration=flags, bandits_configuration=bandits)
    client = eppo_client.init(Config(api_key="offline-harness", assignment_logger=LOGGER,
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
    LOGGER.stop()  # loggers drop everything during the loop
    m = len(args)
    start = time.perf_counter_ns()
    for i in range(n):
        call(flag, *args[i % m], default)
    elapsed = time.perf_counter_ns() - start
    return {"iterations": n, "elapsedNs": elapsed}


OPS = {"hello": op_hello, "configure": op_configure, "evaluate": op_evaluate, "bench": op_bench}


def finite(value):
    """JSON has no NaN or infinities; the protocol spells them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def send(msg):
    # Walking every answer for non-finite numbers costs as much as the
    # evaluation itself; they are rare, so the walk is only the fallback.
    try:
        text = json.dumps(msg, default=repr, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(finite(msg), default=repr, allow_nan=False, separators=(",", ":"))
    PROTOCOL_OUT.write(text + "\n")
    PROTOCOL_OUT.flush()


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req_id = None
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request is not a JSON object")
            req_id = req.get("id")
            if req.get("op") == "shutdown":
                send({"id": req_id, "ok": True})
                return
            if req.get("op") not in OPS:
                raise ValueError(f"unknown op {req.get('op')!r}")
            send({"id": req_id, "ok": True, **OPS[req["op"]](req)})
        except Exception as e:
            print(f"adapter: request failed: {type(e).__name__}: {e}", file=sys.stderr)
            send({"id": req_id, "ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
    sys.exit(0)
