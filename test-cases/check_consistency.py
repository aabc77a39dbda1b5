#!/usr/bin/env python3
"""Consistency check for the built-in suite (stdlib only).

Usage: python3 test-cases/check_consistency.py [--quiet]

Checks, for every group under ufc-fixtures/ and test-cases/:
  * all JSON parses; every test-cases/<group>/ has ufc-fixtures/<group>/flags-v1.json;
  * the configuration has createdAt, format, environment.name and a flags object;
  * each test file has exactly the keys flag, variationType, defaultValue, subjects (in
    that order), a known variationType, unique subject keys, and each subject has
    subjectKey, subjectAttributes, assignment, evaluationDetails (in that order) with
    attribute values that are strings, numbers, bools or null;
  * the test file's flag exists in the group's configuration, or deliberately does not
    (then every subject must be FLAG_UNRECOGNIZED_OR_DISABLED);
  * every evaluationDetails has the 11 keys in spec order and the configuration's
    environment name;
  * the invariant: code MATCH -> assignment == variationValue, otherwise
    assignment == defaultValue (bools never equal numbers);
  * structure against the fixture: matched / unmatched / unevaluated allocations are the
    flag's allocations in order with the right positions and codes; matchedRule is one
    of the matched allocation's rules (null when it has none); the variationKey is
    served by one of that allocation's splits; MATCH descriptions use the template the
    allocation's shape calls for (spec section 3); flag-level outcomes have null/empty
    fields.

It does not evaluate anything: it cannot tell whether a rule really matches a subject.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIXTURES = os.path.join(ROOT, "ufc-fixtures")
CASES = HERE

DETAIL_KEYS = [
    "environmentName", "flagEvaluationCode", "flagEvaluationDescription", "banditKey",
    "banditAction", "variationKey", "variationValue", "matchedRule", "matchedAllocation",
    "unmatchedAllocations", "unevaluatedAllocations",
]
FILE_KEYS = ["flag", "variationType", "defaultValue", "subjects"]
SUBJECT_KEYS = ["subjectKey", "subjectAttributes", "assignment", "evaluationDetails"]
TYPES = {"STRING", "INTEGER", "NUMERIC", "BOOLEAN", "JSON"}
FLAG_CODES = {
    "MATCH", "FLAG_UNRECOGNIZED_OR_DISABLED", "TYPE_MISMATCH", "ASSIGNMENT_ERROR",
    "DEFAULT_ALLOCATION_NULL", "CONFIGURATION_MISSING", "UNEXPECTED_CONFIGURATION_ERROR",
}
REJECT_CODES = {"BEFORE_START_TIME", "AFTER_END_TIME", "FAILING_RULE", "TRAFFIC_EXPOSURE_MISS"}
FLAG_LEVEL = {"FLAG_UNRECOGNIZED_OR_DISABLED", "TYPE_MISMATCH", "CONFIGURATION_MISSING"}

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def json_equal(a, b):
    """JSON equality where 3 == 3.0 but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        err(os.path.relpath(path, ROOT), f"invalid JSON: {e}")
        return None


def usable(flag):
    """A flag whose allocations can be walked structurally."""
    return (isinstance(flag, dict) and isinstance(flag.get("allocations"), list)
            and all(isinstance(a, dict) for a in flag["allocations"])
            and isinstance(flag.get("variations"), dict))


def check_entry(where, e, key, code, pos):
    want = {"key": key, "allocationEvaluationCode": code, "orderPosition": pos}
    if not isinstance(e, dict) or list(e.keys()) != list(want.keys()):
        err(where, f"allocation entry has wrong keys/order: {e}")
        return
    if code is None:
        if e["key"] != key or e["orderPosition"] != pos or e["allocationEvaluationCode"] not in REJECT_CODES:
            err(where, f"bad unmatched entry {e}, expected key {key!r} at {pos} with a rejection code")
    elif e != want:
        err(where, f"allocation entry {e} != {want}")


def expected_description(subject, alloc, var):
    has_rules = bool(alloc.get("rules"))
    akey = alloc["key"]
    if not has_rules:
        return f'{subject} belongs to the range of traffic assigned to "{var}" defined in allocation "{akey}".'
    matched = [s for s in alloc["splits"] if s.get("variationKey") == var]
    split_traffic = len(alloc["splits"]) > 1 or (matched and len(matched[0].get("shards", [])) > 1)
    if split_traffic:
        return (f'Supplied attributes match rules defined in allocation "{akey}" and '
                f'{subject} belongs to the range of traffic assigned to "{var}".')
    return f'Supplied attributes match rules defined in allocation "{akey}".'


def check_subject(where, tf, subj, flag, env_name):
    if not isinstance(subj, dict) or list(subj.keys()) != SUBJECT_KEYS:
        err(where, f"subject keys must be {SUBJECT_KEYS}")
        return
    attrs = subj["subjectAttributes"]
    if not isinstance(attrs, dict):
        err(where, "subjectAttributes is not an object")
    else:
        for k, v in attrs.items():
            if v is not None and not isinstance(v, (str, int, float, bool)):
                err(where, f"attribute {k!r} has a non-scalar value")
    d = subj["evaluationDetails"]
    if not isinstance(d, dict) or list(d.keys()) != DETAIL_KEYS:
        err(where, f"evaluationDetails keys must be exactly {DETAIL_KEYS} in order")
        return
    code = d["flagEvaluationCode"]
    if code not in FLAG_CODES:
        err(where, f"unknown flag code {code!r}")
    if d["environmentName"] != env_name:
        err(where, f"environmentName {d['environmentName']!r} != {env_name!r}")
    if d["banditKey"] is not None or d["banditAction"] is not None:
        err(where, "bandit fields must be null for flag cases")
    if not isinstance(d["flagEvaluationDescription"], str) or not d["flagEvaluationDescription"]:
        err(where, "empty description")

    # the invariant
    if code == "MATCH":
        if not json_equal(subj["assignment"], d["variationValue"]):
            err(where, "MATCH but assignment != variationValue")
    elif not json_equal(subj["assignment"], tf["defaultValue"]):
        err(where, f"{code} but assignment != defaultValue")

    # A flag that loads but fails part-way (totalShards 0, reached at a split that
    # must hash): the allocations before it unmatched, it and the rest unevaluated.
    if code == "UNEXPECTED_CONFIGURATION_ERROR" and d["matchedAllocation"] is None and usable(flag) \
            and flag.get("totalShards") == 0:
        allocs = flag["allocations"]
        um, ue = d["unmatchedAllocations"], d["unevaluatedAllocations"]
        k = len(um)
        if k >= len(allocs) or len(ue) != len(allocs) - k:
            err(where, "a part-way failure lists the failing allocation and the rest as unevaluated")
            return
        for i, e in enumerate(um):
            check_entry(where, e, allocs[i].get("key"), None, i + 1)
        for i, e in enumerate(ue):
            check_entry(where, e, allocs[k + i].get("key"), "UNEVALUATED", k + i + 1)
        want = (f'Allocation "{allocs[k].get("key")}" of flag "{tf["flag"]}" cannot be evaluated: '
                'no subject has a shard when totalShards is 0')
        if d["flagEvaluationDescription"] != want or any(
                d[k2] is not None for k2 in ("variationKey", "variationValue", "matchedRule")):
            err(where, f"part-way failure should say {want!r} with null variation and rule")
        return

    flag_level = code in FLAG_LEVEL or (
        code == "UNEXPECTED_CONFIGURATION_ERROR" and d["matchedAllocation"] is None)
    if flag_level:
        if any(d[k] is not None for k in ("variationKey", "variationValue", "matchedRule", "matchedAllocation")) \
                or d["unmatchedAllocations"] or d["unevaluatedAllocations"]:
            err(where, f"{code} must have null variation/rule/allocation and empty lists")
        if code == "FLAG_UNRECOGNIZED_OR_DISABLED" and \
                d["flagEvaluationDescription"] != f"Unrecognized or disabled flag: {tf['flag']}":
            err(where, "wrong FLAG_UNRECOGNIZED_OR_DISABLED description")
        if code == "FLAG_UNRECOGNIZED_OR_DISABLED" and isinstance(flag, dict) and flag.get("enabled") is True \
                and usable(flag):
            err(where, "FLAG_UNRECOGNIZED_OR_DISABLED for an enabled, well-formed flag")
        if code == "TYPE_MISMATCH":
            if not isinstance(flag, dict) or flag.get("variationType") == tf["variationType"]:
                err(where, "TYPE_MISMATCH but the requested type equals the flag's type")
            else:
                want = (f'Flag "{tf["flag"]}" has variation type {flag.get("variationType")}, '
                        f'but {tf["variationType"]} was requested')
                if d["flagEvaluationDescription"] != want:
                    err(where, f"TYPE_MISMATCH description should be {want!r}")
        if code == "UNEXPECTED_CONFIGURATION_ERROR":
            want = f'Flag "{tf["flag"]}" has an invalid configuration and cannot be evaluated'
            if d["flagEvaluationDescription"] != want:
                err(where, f"malformed-flag description should be {want!r}")
        return

    if not usable(flag):
        err(where, f"{code} needs a flag whose allocations can be read")
        return
    allocs = flag["allocations"]
    n = len(allocs)
    um, ue, m = d["unmatchedAllocations"], d["unevaluatedAllocations"], d["matchedAllocation"]
    if code == "DEFAULT_ALLOCATION_NULL":
        if m is not None or d["variationKey"] is not None or d["variationValue"] is not None \
                or d["matchedRule"] is not None or ue:
            err(where, "DEFAULT_ALLOCATION_NULL must have no match and no unevaluated allocations")
        if len(um) != n:
            err(where, f"DEFAULT_ALLOCATION_NULL must list all {n} allocations as unmatched")
        for i, e in enumerate(um[:n]):
            check_entry(where, e, allocs[i].get("key"), None, i + 1)
        want = 'No allocations matched. Falling back to "Default Allocation", serving NULL'
        if d["flagEvaluationDescription"] != want:
            err(where, "wrong DEFAULT_ALLOCATION_NULL description")
        return

    # MATCH, ASSIGNMENT_ERROR, UNEXPECTED_CONFIGURATION_ERROR for an undefined variation
    if not isinstance(m, dict) or "orderPosition" not in m:
        err(where, f"{code} needs a matchedAllocation")
        return
    pos = m["orderPosition"]
    if not (isinstance(pos, int) and 1 <= pos <= n):
        err(where, f"matchedAllocation position {pos} out of range")
        return
    alloc = allocs[pos - 1]
    check_entry(where, m, alloc.get("key"), "MATCH", pos)
    if len(um) != pos - 1:
        err(where, f"expected {pos - 1} unmatched allocations, got {len(um)}")
    for i, e in enumerate(um[:pos - 1]):
        check_entry(where, e, allocs[i].get("key"), None, i + 1)
    if len(ue) != n - pos:
        err(where, f"expected {n - pos} unevaluated allocations, got {len(ue)}")
    for i, e in enumerate(ue[:n - pos]):
        check_entry(where, e, allocs[pos + i].get("key"), "UNEVALUATED", pos + i + 1)
    rules = alloc.get("rules") or []
    if rules:
        if d["matchedRule"] not in rules:
            err(where, "matchedRule is not one of the matched allocation's rules")
    elif d["matchedRule"] is not None:
        err(where, "matchedRule must be null for an allocation without rules")
    var = d["variationKey"]
    if var not in [s.get("variationKey") for s in alloc.get("splits", [])]:
        err(where, f"variation {var!r} is not served by allocation {alloc.get('key')!r}")
    variations = flag["variations"]
    if code == "UNEXPECTED_CONFIGURATION_ERROR":
        if var in variations:
            err(where, "undefined-variation error for a variation that exists")
        want = f'Allocation "{alloc.get("key")}" assigns variation "{var}", which flag "{tf["flag"]}" does not define'
        if d["flagEvaluationDescription"] != want or d["variationValue"] is not None:
            err(where, f"undefined-variation details should say {want!r} with a null variationValue")
        return
    if var not in variations:
        err(where, f"variation {var!r} is not defined by the flag")
        return
    raw = variations[var].get("value")
    if code == "ASSIGNMENT_ERROR":
        if not json_equal(d["variationValue"], raw):
            err(where, "ASSIGNMENT_ERROR variationValue must be the raw configured value")
        prefix = f"Variation ({var}) is configured for type {flag.get('variationType')}, but is set to incompatible value ("
        if not d["flagEvaluationDescription"].startswith(prefix):
            err(where, f"ASSIGNMENT_ERROR description should start {prefix!r}")
        return
    if code == "MATCH":
        if flag.get("variationType") != tf["variationType"]:
            err(where, "MATCH although the requested type differs from the flag's")
        want = expected_description(subj["subjectKey"], alloc, var)
        if d["flagEvaluationDescription"] != want:
            err(where, f"description should be {want!r}")
        if flag.get("variationType") == "JSON":
            try:
                parsed = json.loads(raw)
            except (TypeError, ValueError):
                err(where, "MATCH on a JSON variation whose value does not parse")
            else:
                if not json_equal(parsed, d["variationValue"]):
                    err(where, "JSON variationValue is not the parsed configured string")
        elif not json_equal(raw, d["variationValue"]):
            err(where, "variationValue differs from the configured value")
        return
    err(where, f"code {code} not expected here")


def main():
    quiet = "--quiet" in sys.argv
    # divergences/ is a catalogue of self-contained suites, checked by its own tests.
    groups = sorted(d for d in os.listdir(CASES) if os.path.isdir(os.path.join(CASES, d)) and d != "divergences")
    # configuration-wire/ holds precomputed fixtures, which have no test files.
    fixture_groups = sorted(d for d in os.listdir(FIXTURES)
                            if os.path.isdir(os.path.join(FIXTURES, d)) and d != "configuration-wire") \
        if os.path.isdir(FIXTURES) else []
    for fg in fixture_groups:
        if fg not in groups:
            err(f"ufc-fixtures/{fg}", "fixture group without test cases")
    total_files = total_subjects = 0
    case_ids = set()
    for group in groups:
        cfg_path = os.path.join(FIXTURES, group, "flags-v1.json")
        if not os.path.exists(cfg_path):
            err(f"test-cases/{group}", "no ufc-fixtures/<group>/flags-v1.json")
            continue
        cfg = load(cfg_path)
        if not isinstance(cfg, dict):
            continue
        for k in ("createdAt", "environment", "flags"):
            if k not in cfg:
                err(cfg_path, f"configuration lacks {k}")
        env_name = (cfg.get("environment") or {}).get("name")
        flags = cfg.get("flags") or {}
        for fk, f in flags.items():
            if isinstance(f, dict) and f.get("key") != fk and "key" in f:
                err(f"ufc-fixtures/{group}", f"flag map key {fk!r} != its key field")
        for name in sorted(os.listdir(os.path.join(CASES, group))):
            if not name.endswith(".json"):
                continue
            rel = f"test-cases/{group}/{name}"
            tf = load(os.path.join(CASES, group, name))
            if tf is None:
                continue
            total_files += 1
            if not isinstance(tf, dict) or list(tf.keys()) != FILE_KEYS:
                err(rel, f"top-level keys must be {FILE_KEYS}")
                continue
            if tf["variationType"] not in TYPES:
                err(rel, f"unknown variationType {tf['variationType']!r}")
            subjects = tf["subjects"]
            if not isinstance(subjects, list) or not subjects:
                err(rel, "no subjects")
                continue
            keys = [s.get("subjectKey") if isinstance(s, dict) else None for s in subjects]
            if len(set(keys)) != len(keys):
                err(rel, "duplicate subject keys")
            flag = flags.get(tf["flag"])
            if tf["flag"] not in flags:
                codes = {s.get("evaluationDetails", {}).get("flagEvaluationCode") for s in subjects
                         if isinstance(s, dict)}
                if codes != {"FLAG_UNRECOGNIZED_OR_DISABLED"}:
                    err(rel, f"flag {tf['flag']!r} is not in the group's configuration")
            stem = name[:-5]
            for s in subjects:
                sk = s.get("subjectKey") if isinstance(s, dict) else None
                case_id = f"{group}/{stem}/{sk}"
                if case_id in case_ids:
                    err(rel, f"duplicate case id {case_id}")
                case_ids.add(case_id)
                check_subject(case_id, tf, s, flag, env_name)
            total_subjects += len(subjects)
            if not quiet:
                print(f"{rel}: {len(subjects)} subjects ({tf['flag']}, {tf['variationType']})")
    print(f"{len(groups)} groups, {total_files} test files, {total_subjects} subjects")
    if errors:
        for e in errors:
            print("ERROR", e)
        print(f"{len(errors)} problem(s)")
        return 1
    print("consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
