"""The online part of smoke.py: an adapter's SDK against a loopback CDN.

For an adapter that declares the `online` capability (docs/protocol.md,
"Online ops"): serves the shared flags file from a tiny HTTP server on
127.0.0.1, inits the SDK against it, evaluates a few cases, changes the
configuration (one flag removed, one added), waits for a poll to bring the
change (bounded by the poll interval), checks the events the loggers got,
the SDK's own dedup cache and a throwing logger where the adapter offers
them, and that no request arrives after `stopClient`. Standard library only.
"""

import hashlib
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SDK_KEY = "smoke-sdk-key"
NO_BANDITS = b'{"bandits": {}, "updatedAt": "1970-01-01T00:00:00Z"}'
# Cases read from these test files, with the assignments they expect.
TEST_FILES = ("test-case-kill-switch-flag.json", "test-case-new-user-onboarding-flag.json")
# The flag the changed configuration adds: everyone gets "after".
ADDED_FLAG = "smoke-online-flag"
REMOVED_FLAG = "kill-switch"


class Cdn:
    """Serves one flags document (replaceable) with an ETag, honours
    If-None-Match with 304, and records every request."""

    def __init__(self, flags):
        self.lock = threading.Lock()
        self.requests = []
        self.serve(flags)
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                cdn.answer(self)

            def log_message(self, *args):  # keep stderr for the adapter
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, flags):
        with self.lock:
            self.body = json.dumps(flags).encode()
            self.etag = '"' + hashlib.md5(self.body).hexdigest() + '"'

    def answer(self, handler):
        url = urllib.parse.urlsplit(handler.path)
        with self.lock:
            self.requests.append({"time": time.monotonic(), "path": url.path,
                                  "query": dict(urllib.parse.parse_qsl(url.query)),
                                  "ifNoneMatch": handler.headers.get("If-None-Match")})
            body, etag = self.body, self.etag
        if url.path == "/api/flag-config/v1/bandits":
            body, etag = NO_BANDITS, None
        elif url.path != "/api/flag-config/v1/config":
            handler.send_response(404)
            handler.end_headers()
            return
        if etag is not None and handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        if etag is not None:
            handler.send_header("ETag", etag)
        handler.end_headers()
        handler.wfile.write(body)

    def config_requests(self):
        with self.lock:
            return [r for r in self.requests if r["path"] == "/api/flag-config/v1/config"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def changed(flags):
    """The flags document with REMOVED_FLAG gone and ADDED_FLAG added."""
    doc = json.loads(json.dumps(flags))
    doc["flags"].pop(REMOVED_FLAG, None)
    doc["flags"][ADDED_FLAG] = {
        "key": ADDED_FLAG, "enabled": True, "variationType": "STRING", "totalShards": 10000,
        "variations": {"after": {"key": "after", "value": "after"}},
        "allocations": [{"key": "everyone", "rules": [], "doLog": True,
                         "splits": [{"variationKey": "after", "shards": []}]}],
    }
    return doc


def test_cases(data):
    """(case, expected value) from TEST_FILES, plus the added flag (absent
    at first, so its default)."""
    out = []
    for name in TEST_FILES:
        with open(os.path.join(data, "ufc/tests", name)) as f:
            test = json.load(f)
        for i, s in enumerate(test["subjects"]):
            case = {"caseId": f"online/{name}/{i}", "kind": "flag", "flag": test["flag"],
                    "variationType": test["variationType"], "defaultValue": test["defaultValue"],
                    "subjectKey": s["subjectKey"], "subjectAttributes": s["subjectAttributes"]}
            out.append((case, s["assignment"]))
    return out


def added_case(subject="smoke-subject"):
    return {"caseId": f"online/{ADDED_FLAG}/{subject}", "kind": "flag", "flag": ADDED_FLAG,
            "variationType": "STRING", "defaultValue": "before", "subjectKey": subject,
            "subjectAttributes": {}}


class Check:
    """Collects failures; prints each as it is found."""

    def __init__(self):
        self.failures = 0

    def expect(self, condition, what):
        if not condition:
            self.failures += 1
            print(f"  online FAIL {what}")
        return condition


def evaluate(adapter, cases):
    return adapter.must("evaluate", cases=cases)["results"]


def init(adapter, cdn, interval_ms, **options):
    return adapter.request("init", baseUrl=cdn.base_url, sdkKey=SDK_KEY, pollIntervalMs=interval_ms,
                           initTimeoutMs=5000, **options)


def wait_for(deadline_s, probe, step_s=0.2):
    """Call probe() until it returns true or the deadline passes."""
    end = time.monotonic() + deadline_s
    while True:
        if probe():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(step_s)


def check_first_configuration(adapter, check, cases, same):
    results = evaluate(adapter, [c for c, _ in cases] + [added_case()])
    wrong = [f"{c['caseId']}: expected {e!r}, got {r.get('value', r.get('error'))!r}"
             for (c, e), r in zip(cases, results) if "error" in r or not same(e, r.get("value"))]
    check.expect(not wrong, f"first configuration: {len(wrong)} wrong values, e.g. {wrong[:3]}")
    check.expect(same(results[-1].get("value"), "before"), f"a flag not yet served gives the default: {results[-1]}")
    # Without the SDK's cache, the same assignment twice logs twice.
    again = evaluate(adapter, [cases[0][0], cases[0][0]])
    counts = [len(r.get("assignmentEvents", [])) for r in again]
    check.expect(counts == [1, 1], f"cache off: a repeated assignment logs every time, events {counts}")
    print(f"online: first configuration served ({len(cases) - len(wrong)}/{len(cases)} values)")


def check_change(adapter, cdn, check, cases, interval_ms, flags):
    cdn.serve(changed(flags))
    started = time.monotonic()
    seen = []

    def arrived():
        result = evaluate(adapter, [added_case()])[0]
        seen[:] = [result]
        return result.get("value") == "after"

    # Two intervals and a margin: any jitter the SDKs document stays within one.
    deadline_s = 2 * interval_ms / 1000 + 5
    if not check.expect(wait_for(deadline_s, arrived), f"the changed configuration within {deadline_s:.0f} s"):
        return
    print(f"online: change picked up after {time.monotonic() - started:.1f} s (poll interval {interval_ms} ms)")
    events = seen[0].get("assignmentEvents", [])
    check.expect(len(events) == 1 and events[0].get("featureFlag") == ADDED_FLAG
                 and events[0].get("variation") == "after" and events[0].get("allocation") == "everyone",
                 f"one event for the new assignment: {events}")
    removed = [c for c, _ in cases if c["flag"] == REMOVED_FLAG]
    results = evaluate(adapter, removed)
    check.expect(all(r.get("value") == c["defaultValue"] and not r.get("assignmentEvents")
                     for c, r in zip(removed, results)),
                 f"a removed flag serves the default and logs nothing: {results[:2]}")


def check_drain(adapter, check):
    drained = adapter.must("drainEvents")
    shape = (isinstance(drained.get("assignmentEvents"), list) and isinstance(drained.get("banditEvents"), list)
             and isinstance(drained.get("loggerCalls"), int))
    if check.expect(shape, f"drainEvents answers lists and a count: {drained}"):
        # Every call so far happened inside an evaluate, which reported it.
        check.expect(drained["assignmentEvents"] == [] and drained["loggerCalls"] == 0,
                     f"nothing logged outside evaluate: {drained}")


def check_requests(cdn, check, hello):
    fetches = cdn.config_requests()
    keys = {r["query"].get("apiKey") for r in fetches}
    check.expect(keys == {SDK_KEY}, f"every fetch sends the SDK key: {keys}")
    check.expect(all(r["query"].get("sdkName") for r in fetches), "every fetch names the SDK")
    etags = sum(1 for r in fetches if r["ifNoneMatch"])
    print(f"online: {len(fetches)} configuration fetches, sdkName={fetches[0]['query'].get('sdkName')!r}, "
          f"If-None-Match sent on {etags}")


def check_stop(adapter, cdn, check, interval_ms):
    adapter.must("stopClient")
    before = len(cdn.requests)
    time.sleep(min(interval_ms / 1000 * 1.5, 3))
    after = len(cdn.requests)
    check.expect(after == before, f"no request after stopClient ({after - before} arrived)")


def check_cache(adapter, cdn, check, interval_ms, cases):
    resp = init(adapter, cdn, interval_ms, assignmentCache=True)
    if not check.expect(resp.get("ok"), f"init with the assignment cache: {resp}"):
        return
    results = evaluate(adapter, [cases[0][0], cases[0][0]])
    counts = [len(r.get("assignmentEvents", [])) for r in results]
    check.expect(counts == [1, 0], f"cache on: a repeated assignment logs once, events {counts}")


def check_throwing_logger(adapter, cdn, check, interval_ms, cases, same):
    """The adapter's logger raises after recording. Either the SDK swallows
    that (the value and the recorded event as usual) or lets it escape (the
    case errors, naming the logger, and its event is drained): the check is
    of the adapter; which one the SDK does is for the scenarios to judge."""
    resp = init(adapter, cdn, interval_ms, logger="throwing")
    if not check.expect(resp.get("ok"), f"init with a throwing logger: {resp}"):
        return
    case, expected = cases[0]
    results = evaluate(adapter, [case, case])
    escaped = [r for r in results if "throwing logger" in str(r.get("error", ""))]
    drained = adapter.must("drainEvents")
    if escaped:
        check.expect(len(escaped) == 2 and len(drained.get("assignmentEvents", [])) == 2
                     and drained.get("loggerCalls") == 2,
                     f"an escaping logger error: both cases error and their events are drained: {results} {drained}")
        print("online: the SDK lets a throwing logger's error escape the evaluation")
        return
    for r in results:
        check.expect("error" not in r and same(r.get("value"), expected),
                     f"a throwing logger does not change the value: {r.get('value', r.get('error'))!r}")
        check.expect(len(r.get("assignmentEvents", [])) == 1, f"a throwing logger's call is recorded: {r}")
    print("online: the SDK swallows a throwing logger's error")


def check_online(adapter, hello, data, same):
    """Run the online check; True when it passed (or the adapter is offline only)."""
    if "online" not in hello.get("capabilities", []):
        print("online: not declared; skipped")
        return True
    online = hello.get("online") or {}
    options = online.get("options", [])
    print(f"online: {json.dumps(online, sort_keys=True)}")
    # The SDK's smallest interval: a poll in about a second where it can.
    interval_ms = max(1000, online.get("minPollIntervalMs") or 0)
    with open(os.path.join(data, "ufc/flags-v1.json")) as f:
        flags = json.load(f)
    cases = test_cases(data)
    cdn = Cdn(flags)
    check = Check()
    try:
        resp = init(adapter, cdn, interval_ms)
        if not check.expect(resp.get("ok"), f"init: {resp}"):
            return False
        # What the SDK says of itself; the values below show what it serves.
        print(f"online: init answered in {resp.get('elapsedMs')} ms, the SDK says initialized={resp.get('initialized')}")
        check_first_configuration(adapter, check, cases, same)
        check_change(adapter, cdn, check, cases, interval_ms, flags)
        check_drain(adapter, check)
        check_requests(cdn, check, hello)
        check_stop(adapter, cdn, check, interval_ms)
        cdn.serve(flags)
        if "assignmentCache" in options:
            check_cache(adapter, cdn, check, interval_ms, cases)
        if "throwingLogger" in options:
            check_throwing_logger(adapter, cdn, check, interval_ms, cases, same)
        adapter.must("stopClient")
    finally:
        cdn.close()
    print(f"online: {'ok' if check.failures == 0 else f'{check.failures} failures'}")
    return check.failures == 0
