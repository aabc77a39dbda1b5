#!/usr/bin/env python3
"""End-to-end smoke test of one adapter against Eppo's shared test data.

Usage: smoke.py ADAPTER_RUN [TEST_DATA_DIR] [--online | --only-online]

Starts ADAPTER_RUN (an installed adapter's `run` script), speaks protocol v1
to it, and checks every flag and bandit test file's expected assignments.
Prints pass counts, the first few value and details differences, one example
of each kind of event, and bench timings. Exits 1 if any value differs.

--online adds the online check (smoke_online.py) for an adapter that declares
the `online` capability: its SDK polls a loopback HTTP server started here.
--only-online runs that check alone. Standard library only.
"""

import glob
import json
import os
import subprocess
import sys

import smoke_online

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "../../../shared/eppo-sdk-test-data")
SHOW = int(os.environ.get("SMOKE_SHOW", "5"))  # how many differences of each kind to print


class Adapter:
    def __init__(self, run):
        self.proc = subprocess.Popen([run], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.next_id = 0

    def request(self, op, **fields):
        msg = {"id": self.next_id, "op": op, **fields}
        self.next_id += 1
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"adapter exited during {op} (code {self.proc.wait()})")
        resp = json.loads(line)
        if resp.get("id") != msg["id"]:
            sys.exit(f"{op}: response id {resp.get('id')!r}, expected {msg['id']}")
        return resp

    def must(self, op, **fields):
        resp = self.request(op, **fields)
        if not resp.get("ok"):
            sys.exit(f"{op} failed: {resp.get('error')}")
        return resp

    def close(self):
        self.request("shutdown")
        self.proc.stdin.close()
        return self.proc.wait(timeout=10)


def same(a, b):
    """JSON equality where 1 == 1.0 but 1 != "1" and True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def first_difference(expected, observed):
    for key in expected:
        if not same(expected.get(key), (observed or {}).get(key)):
            return key, expected.get(key), (observed or {}).get(key)
    return None


def case_id(base, seen):
    """A case id unique within the run: some test files repeat a subject key."""
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}#{seen[base]}"


def load(pattern):
    return [(os.path.basename(p)[:-len(".json")], json.load(open(p))) for p in sorted(glob.glob(pattern))]


def run_flags(adapter, data, caps):
    adapter.must("configure", flags={"path": os.path.join(data, "ufc/flags-v1.json")})
    cases, expected, seen = [], {}, {}
    for stem, test in load(os.path.join(data, "ufc/tests/*.json")):
        for s in test["subjects"]:
            cid = case_id(f"{stem}/{s['subjectKey']}", seen)
            cases.append({"caseId": cid, "kind": "flag", "flag": test["flag"],
                          "variationType": test["variationType"], "defaultValue": test["defaultValue"],
                          "subjectKey": s["subjectKey"], "subjectAttributes": s["subjectAttributes"]})
            expected[cid] = s
    results = adapter.must("evaluate", cases=cases)["results"]
    values_ok = details_ok = errors = 0
    value_diffs, detail_diffs, example_event = [], [], None
    for case, res in zip(cases, results):
        exp = expected[case["caseId"]]
        if "error" in res:
            errors += 1
            value_diffs.append(f"{case['caseId']}: error {res['error']}")
            continue
        if same(exp["assignment"], res.get("value")):
            values_ok += 1
        else:
            value_diffs.append(f"{case['caseId']}: expected {exp['assignment']!r}, got {res.get('value')!r}")
        diff = first_difference(exp["evaluationDetails"], res.get("details"))
        if diff is None:
            details_ok += 1
        else:
            detail_diffs.append(f"{case['caseId']}: {diff[0]}: expected {json.dumps(diff[1])}, "
                                f"got {json.dumps(diff[2])}")
        if example_event is None and res.get("assignmentEvents"):
            example_event = res["assignmentEvents"][0]
    n = len(cases)
    print(f"flags: values {values_ok}/{n} correct, details {details_ok}/{n} identical, {errors} errors")
    for line in value_diffs[:SHOW]:
        print("  value   ", line)
    if "details" in caps:
        for line in detail_diffs[:SHOW]:
            print("  details ", line)
        if len(detail_diffs) > SHOW:
            print(f"  ... {len(detail_diffs) - SHOW} more details differences")
    if example_event is not None:
        print("  example assignment event:", json.dumps(example_event, sort_keys=True))
    return values_ok == n


def run_bandits(adapter, data):
    adapter.must("configure", flags={"path": os.path.join(data, "ufc/bandit-flags-v1.json")},
                 bandits={"path": os.path.join(data, "ufc/bandit-models-v1.json")})
    cases, expected, seen = [], {}, {}
    for stem, test in load(os.path.join(data, "ufc/bandit-tests/*.json")):
        for s in test["subjects"]:
            cid = case_id(f"bandit:{stem}/{s['subjectKey']}", seen)
            cases.append({"caseId": cid, "kind": "bandit", "flag": test["flag"],
                          "defaultValue": test["defaultValue"], "subjectKey": s["subjectKey"],
                          "subjectAttributes": s["subjectAttributes"], "actions": s["actions"]})
            expected[cid] = s["assignment"]
    results = adapter.must("evaluate", cases=cases)["results"]
    ok, diffs, example = 0, [], None
    for case, res in zip(cases, results):
        if "error" in res:
            diffs.append(f"{case['caseId']}: error {res['error']}")
        elif same(expected[case["caseId"]], res.get("value")):
            ok += 1
        else:
            diffs.append(f"{case['caseId']}: expected {expected[case['caseId']]}, got {res.get('value')}")
        if example is None and res.get("banditEvents"):
            example = res["banditEvents"][0]
    print(f"bandits: {ok}/{len(cases)} correct")
    for line in diffs[:SHOW]:
        print("  bandit  ", line)
    if example is not None:
        print("  example bandit event:", json.dumps(example, sort_keys=True))
    return ok == len(cases)


def run_bench(adapter, data, caps):
    adapter.must("configure", flags={"path": os.path.join(data, "ufc/flags-v1.json")})
    subjects = [{"subjectKey": f"user-{i}", "subjectAttributes": {"country": c, "age": 20 + i}}
                for i, c in enumerate(["US", "Canada", "Mexico", "UK"])]
    n = 20000
    for mode in ("assign", "details") if "details" in caps else ("assign",):
        for iterations in (n // 10, n):  # the first, short loop warms up JITs and caches
            r = adapter.must("bench", mode=mode, flag="new-user-onboarding", variationType="STRING",
                             defaultValue="default", subjects=subjects, actions=[], iterations=iterations)
        print(f"bench {mode}: {r['iterations']} calls in {r['elapsedNs'] / 1e6:.1f} ms "
              f"({r['elapsedNs'] / r['iterations']:.0f} ns/call)")
    if "bandits" in caps:
        adapter.must("configure", flags={"path": os.path.join(data, "ufc/bandit-flags-v1.json")},
                     bandits={"path": os.path.join(data, "ufc/bandit-models-v1.json")})
        test = json.load(open(os.path.join(data, "ufc/bandit-tests/test-case-banner-bandit.json")))
        s = test["subjects"][0]
        for iterations in (n // 10, n):
            r = adapter.must("bench", mode="bandit", flag=test["flag"], defaultValue=test["defaultValue"],
                             subjects=[{"subjectKey": x["subjectKey"], "subjectAttributes": x["subjectAttributes"]}
                                       for x in test["subjects"]],
                             actions=s["actions"], iterations=iterations)
        print(f"bench bandit: {r['iterations']} calls in {r['elapsedNs'] / 1e6:.1f} ms "
              f"({r['elapsedNs'] / r['iterations']:.0f} ns/call)")


def main():
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args or any(f not in ("--online", "--only-online") for f in flags):
        sys.exit(__doc__)
    data = args[1] if len(args) > 1 else DEFAULT_DATA
    adapter = Adapter(args[0])
    hello = adapter.must("hello", protocol=1)
    caps = hello["capabilities"]
    print(f"sdk: {json.dumps(hello['sdk'])}  capabilities: {', '.join(caps)}")
    good = True
    if "--only-online" not in flags:
        bad = adapter.request("frobnicate")
        print(f"unknown op answered ok={bad.get('ok')}: {bad.get('error')}")
        good = run_flags(adapter, data, caps)
        if "bandits" in caps:
            good = run_bandits(adapter, data) and good
        if "bench" in caps:
            run_bench(adapter, data, caps)
    if flags:
        good = smoke_online.check_online(adapter, hello, data, same) and good
    print(f"shutdown: exit code {adapter.close()}")
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
