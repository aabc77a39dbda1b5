#!/usr/bin/env python3
"""A skeleton adapter to copy when wrapping a new SDK. Python standard library only.

It speaks protocol v1 (docs/protocol.md) correctly but wraps no SDK: every
flag case gets its defaultValue back. To wrap a real SDK:

  1. in `configure`, load the flag (and bandit) JSON into the SDK without any
     network access and without a background poller;
  2. in `evaluate_case`, call the SDK's typed method for `variationType` and
     return what it returned;
  3. add capabilities as you implement them ("details", "events", "bandits",
     "bandit-details", "bench") -- the harness skips cases needing the others.
"""

import json
import sys

PROTOCOL = 1

# Stdout carries protocol responses and nothing else. Keep a private handle
# and send anything printed by accident (by us or a library) to stderr.
OUT = sys.stdout
sys.stdout = sys.stderr

flags = None  # the loaded configuration; a real adapter holds an SDK client


def read_source(spec):
    """`{"path": FILE}` or `{"inline": OBJECT}` -> the parsed JSON object."""
    if "path" in spec:
        with open(spec["path"]) as f:
            return json.load(f)
    return spec["inline"]


def evaluate_case(case):
    # A real adapter calls the SDK here, e.g. client.get_string_assignment(...),
    # and captures the events the SDK hands its loggers during the call.
    if case["kind"] != "flag":
        raise ValueError("this skeleton has no bandit support")
    return {"caseId": case["caseId"], "value": case["defaultValue"],
            "details": None, "assignmentEvents": [], "banditEvents": []}


def handle(req):
    """Return the op's response fields; raise to answer ok:false."""
    global flags
    op = req.get("op")
    if op == "hello":
        if req.get("protocol") != PROTOCOL:
            raise ValueError(f"this adapter speaks protocol {PROTOCOL}")
        return {"protocol": PROTOCOL,
                "sdk": {"name": "example", "package": "none", "version": "0.0.0"},
                "capabilities": ["assign"]}
    if op == "configure":
        flags = read_source(req["flags"])  # a later configure replaces it
        return {}
    if op == "evaluate":
        results = []
        for case in req["cases"]:
            try:
                results.append(evaluate_case(case))
            except Exception as e:  # a failing case must not fail the batch
                case_id = case.get("caseId") if isinstance(case, dict) else None
                results.append({"caseId": case_id, "error": f"{type(e).__name__}: {e}"})
        return {"results": results}
    if op == "shutdown":
        return {}
    raise ValueError(f"unknown op {op!r}")


def main():
    for line in sys.stdin:  # EOF on stdin means shut down
        if not line.strip():
            continue
        req_id = None
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request is not a JSON object")
            req_id = req.get("id")
            response = {"id": req_id, "ok": True, **handle(req)}
        except Exception as e:  # never die on a bad request: answer it
            response = {"id": req_id, "ok": False, "error": f"{type(e).__name__}: {e}"}
        OUT.write(json.dumps(response) + "\n")
        OUT.flush()  # the harness waits for this line
        if response["ok"] and req.get("op") == "shutdown":
            break


if __name__ == "__main__":
    main()
    sys.exit(0)
