#!/usr/bin/env python3
"""Drives the js-client adapter's precomputed client (`precomputed-client`
capability) until the harness does: a round trip through the JS core.

Usage: precomputed_roundtrip.py ADAPTER_RUN [TEST_DATA_DIR]

For every subject of the flag and bandit test files, the adapter's
EppoClient precomputes the subject's configuration (`precompute`), then a
`configure` with that envelope as `precomputed` makes the precomputed client
answer the subject's cases, whose values are checked against the test
files. Subjects whose key repeats within one configuration (with other
attributes) are asked in one configure each. Prints counts and the first
differences; exits 1 on any. Standard library only.
"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from smoke import DEFAULT_DATA, SHOW, Adapter, same  # noqa: E402

SALT = "ufc-harness-salt"


def flag_groups(data):
    """(flags file, bandit models or None, [(test file, subject)]) per configuration."""
    flags = [(os.path.join(data, "ufc/flags-v1.json"), None, "ufc/tests/*.json")]
    bandits = [(os.path.join(data, "ufc/bandit-flags-v1.json"),
                os.path.join(data, "ufc/bandit-models-v1.json"), "ufc/bandit-tests/*.json")]
    for flags_file, models, pattern in flags + bandits:
        pairs = []
        for path in sorted(glob.glob(os.path.join(data, pattern))):
            test = json.load(open(path))
            pairs += [(test, subject) for subject in test["subjects"]]
        yield flags_file, models, pairs


def case_of(test, subject):
    base = {"caseId": f"{test['flag']}/{subject['subjectKey']}", "flag": test["flag"],
            "defaultValue": test["defaultValue"], "subjectKey": subject["subjectKey"],
            "subjectAttributes": subject["subjectAttributes"]}
    if "actions" in subject:
        return {**base, "kind": "bandit", "actions": subject["actions"]}
    return {**base, "kind": "flag", "variationType": test["variationType"]}


def expected_of(subject):
    return subject["assignment"]


def observed_of(result):
    value = result.get("value")
    return {"variation": value["variation"], "action": value["action"]} if isinstance(value, dict) and "action" in value else value


def main():
    run = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_DATA
    adapter = Adapter(run)
    adapter.must("hello", protocol=1)
    passed, failed, events = 0, [], 0
    for flags_file, models, pairs in flag_groups(data):
        source = {"flags": {"path": flags_file}, "bandits": {"path": models} if models else None}
        for test, subject in pairs:
            adapter.must("configure", **source)
            actions = {}
            if "actions" in subject:
                actions = {test["flag"]: {a["actionKey"]: {"numericAttributes": a["numericAttributes"],
                                                          "categoricalAttributes": a["categoricalAttributes"]}
                                         for a in subject["actions"]}}
            envelope = adapter.must("precompute", subjectKey=subject["subjectKey"],
                                    subjectAttributes=subject["subjectAttributes"],
                                    banditActions=actions, salt=SALT)["configuration"]
            if isinstance(envelope, str):
                envelope = json.loads(envelope)
            adapter.must("configure", **source, precomputed={"inline": envelope})
            case = case_of(test, subject)
            result = adapter.must("evaluate", cases=[case])["results"][0]
            if "error" in result:
                failed.append((case["caseId"], expected_of(subject), f"error: {result['error']}"))
                continue
            events += len(result.get("assignmentEvents", [])) + len(result.get("banditEvents", []))
            if same(expected_of(subject), observed_of(result)):
                passed += 1
            else:
                failed.append((case["caseId"], expected_of(subject), observed_of(result)))
    adapter.close()
    print(f"precomputed client: {passed}/{passed + len(failed)} values as the test files say; {events} events logged")
    for case_id, expected, observed in failed[:SHOW]:
        print(f"  {case_id}: expected {json.dumps(expected)}, got {json.dumps(observed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
