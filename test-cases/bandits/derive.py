#!/usr/bin/env python3
"""Independent derivation of the `bandits` group's expectations.

A small model of ../../../shared/ufc-spec.md section 5 (and the parts of sections
1-2 the bandit flags use), written from the spec and docs/reference.md
("Bandits"), in plain Python: hashlib.md5 for flag shards, the action shuffle
and the selection value; float arithmetic for scores and weights. It shares
no code with the Rust reference; that is the point.

    python3 test-cases/bandits/derive.py            print the working for every
                                                    subject and compare it with the
                                                    file's `assignment` (exit 1 on
                                                    any difference)
    python3 test-cases/bandits/derive.py -q         only the summary and differences
    python3 test-cases/bandits/derive.py FILE...    only these bandit test files
    python3 test-cases/bandits/derive.py find FLAG PREFIX LO HI [COUNT]
                                                    subject keys PREFIX-<n> whose
                                                    selection shard is in [LO, HI)

For every subject the working shows: the flag's outcome, the bandit, the
actions in shuffled order with their shuffle shard, score, weight and running
sum, the best action, the selection value, the chosen action, and the margin
between the selection value and the nearest running sum. It also replays the
subject under a few *wrong* readings of the spec (VARIANTS below) and lists
those that would choose differently: that is what the subject discriminates.

Every score and weight is also recomputed exactly with fractions.Fraction; a
subject is flagged FRAGILE if the float walk and the exact walk disagree at any
step, if the selection value lies within 1e-9 of a running sum without being
exactly on it, or if it is exactly on a running sum that is not exact in
binary (the designed boundary hits use sums of 0.25 and 0). Scores use coefficients and attribute values that are dyadic
(multiples of a power of two), so a score is exact whatever the order of
summation an implementation uses.
"""

import hashlib
import json
import math
import os
import re
import sys
from decimal import Decimal
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FLAGS = os.path.join(ROOT, "ufc-fixtures", "bandits", "flags-v1.json")
MODELS = os.path.join(ROOT, "ufc-fixtures", "bandits", "bandit-models-v1.json")
TESTS = os.path.join(HERE, "bandit-tests")

# Wrong readings of the spec. Each subject is replayed under each; the README
# lists, per subject, the ones that choose a different variation or action.
VARIANTS = {
    "tie-larger-key": "ties go to the larger key",
    "tie-utf16": "ties compare UTF-16 code units (JS) instead of bytes",
    "dupes-first": "a repeated action key keeps its FIRST entry",
    "dupes-all": "repeated action keys are all kept (N counts them)",
    "select-gte": "take the first action whose running sum is >= the selection value",
    "default-score-0": "an action without coefficients scores 0, not defaultActionScore",
    "missing-0": "a missing attribute contributes 0, not missingValueCoefficient",
    "numeric-lenient": "numeric strings/bools in numericAttributes are read as numbers",
    "categorical-strict": "numbers/bools in categoricalAttributes count as missing",
    "categorical-json": "categorical numbers rendered as JSON text (42.0 -> \"42.0\")",
    "no-floor": "actionProbabilityFloor ignored",
    "no-clamp": "the best action's weight is 1 - sum(others) even when negative",
    "no-shuffle": "actions walked in the order given",
    "default-no-bandit": "a default served after a flag failure never gets an action",
    "merge-numeric-wins": "the flag sees numeric attributes win a clash",
    "gamma-1": "gamma read as 1 whatever the model says",
}


# ---------------------------------------------------------------- hashing

def md5_u32(text):
    """First 4 bytes of md5(UTF-8 text), big-endian."""
    return int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:4], "big")


def flag_shard(salt, subject_key, total):
    return md5_u32(f"{salt}-{subject_key}") % total


def shuffle_shard(flag, subject_key, action_key):
    return md5_u32(f"{flag}-{subject_key}-{action_key}") % 10000


def selection_shard(flag, subject_key):
    return md5_u32(f"{flag}-{subject_key}") % 10000


# ---------------------------------------------------------------- values

def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def render(v):
    """A scalar as a string, numbers as Rust prints an f64 (42.0 -> 42)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if is_number(v):
        f = float(v)
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        if math.isnan(f):
            return "NaN"
        if f == 0 and math.copysign(1.0, f) < 0:
            return "-0"
        if f.is_integer():
            return str(int(f))
        return format(Decimal(repr(f)), "f")
    return None


RUST_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$", re.I)


def as_float(v):
    """Numeric reading of an attribute for GT/GTE/LT/LTE (spec 2)."""
    if is_number(v):
        return float(v)
    if isinstance(v, str) and RUST_FLOAT.match(v):
        return float(v)
    return None


# ---------------------------------------------------------------- flags (spec 2, the subset used here)

def condition_holds(cond, attrs):
    name, op, target = cond["attribute"], cond["operator"], cond["value"]
    value = attrs.get(name)
    if value is None:
        return op == "IS_NULL" and target is True
    if op == "IS_NULL":
        return target is False
    if op in ("ONE_OF", "NOT_ONE_OF"):
        hit = render(value) in target
        return hit if op == "ONE_OF" else not hit
    if op in ("GT", "GTE", "LT", "LTE"):
        x = as_float(value)
        if x is None:
            return False
        t = float(target)
        return {"GT": x > t, "GTE": x >= t, "LT": x < t, "LTE": x <= t}[op]
    raise NotImplementedError(f"operator {op} is not used by the bandit fixtures")


def evaluate_flag(config, flag_key, subject_key, attrs):
    """(variation value, how) for a STRING request; value None means the default is served."""
    flag = config["flags"].get(flag_key)
    if flag is None or not flag.get("enabled"):
        return None, "FLAG_UNRECOGNIZED_OR_DISABLED"
    if flag["variationType"] != "STRING":
        return None, "TYPE_MISMATCH"
    for alloc in flag["allocations"]:
        assert "startAt" not in alloc and "endAt" not in alloc, "dates are not used here"
        rules = alloc.get("rules", [])
        matched_rule = None
        if rules:
            for i, rule in enumerate(rules):
                if all(condition_holds(c, attrs) for c in rule["conditions"]):
                    matched_rule = i + 1
                    break
            if matched_rule is None:
                continue
        for split in alloc["splits"]:
            shards = [flag_shard(s["salt"], subject_key, flag["totalShards"]) for s in split["shards"]]
            ok = all(any(r["start"] <= sh < r["end"] for r in s["ranges"])
                     for s, sh in zip(split["shards"], shards))
            if ok:
                var = next(v for v in flag["variations"].values() if v["key"] == split["variationKey"])
                if not isinstance(var["value"], str):
                    return None, "ASSIGNMENT_ERROR"
                how = f"MATCH allocation {alloc['key']}"
                if matched_rule:
                    how += f" rule {matched_rule}"
                if shards:
                    how += " shards " + ",".join(str(x) for x in shards)
                return var["value"], how
    return None, "DEFAULT_ALLOCATION_NULL"


def bandit_link(config, flag_key, value):
    """Bandit key linked to (flag, variation value), read from BOTH maps; they must agree."""
    a = {k for k, links in config.get("bandits", {}).items()
         for l in links if l["flagKey"] == flag_key and l["variationValue"] == value}
    b = {k for k, ref in config.get("banditReferences", {}).items()
         for l in ref["flagVariations"] if l["flagKey"] == flag_key and l["variationValue"] == value}
    assert a == b, f"bandits and banditReferences disagree for {flag_key}/{value}: {a} vs {b}"
    assert len(a) <= 1, f"{flag_key}/{value} linked to several bandits"
    return next(iter(a), None)


# ---------------------------------------------------------------- bandits (spec 5)

def clean_numeric(attrs, variant):
    out = {}
    for k, v in attrs.items():
        if is_number(v) and math.isfinite(float(v)):
            out[k] = float(v)
        elif variant == "numeric-lenient":
            if isinstance(v, bool):
                out[k] = 1.0 if v else 0.0
            elif isinstance(v, str) and as_float(v) is not None:
                out[k] = as_float(v)
    return out


def clean_categorical(attrs, variant):
    out = {}
    for k, v in attrs.items():
        if isinstance(v, str):
            out[k] = v
        elif isinstance(v, bool) or is_number(v):
            if variant == "categorical-strict":
                continue
            if variant == "categorical-json" and is_number(v):
                out[k] = json.dumps(v)
            else:
                out[k] = render(v)
    return out


def score_terms(coef, sn, sc, an, ac, variant):
    """The score as a list of (label, term); the sum is the score."""
    terms = [("intercept", coef["intercept"])]
    miss = (lambda c: 0.0) if variant == "missing-0" else (lambda c: c["missingValueCoefficient"])

    def numeric(who, coefs, attrs):
        for c in coefs:
            k = c["attributeKey"]
            if k in attrs:
                terms.append((f"{who}.{k}={attrs[k]!r}*{c['coefficient']!r}", attrs[k] * c["coefficient"]))
            else:
                terms.append((f"{who}.{k} missing", miss(c)))

    def categorical(who, coefs, attrs):
        for c in coefs:
            k = c["attributeKey"]
            if k in attrs and attrs[k] in c["valueCoefficients"]:
                terms.append((f"{who}.{k}={attrs[k]!r}", c["valueCoefficients"][attrs[k]]))
            else:
                why = "missing" if k not in attrs else f"{attrs[k]!r} unlisted"
                terms.append((f"{who}.{k} {why}", miss(c)))

    numeric("s", coef["subjectNumericCoefficients"], sn)
    categorical("s", coef["subjectCategoricalCoefficients"], sc)
    numeric("a", coef["actionNumericCoefficients"], an)
    categorical("a", coef["actionCategoricalCoefficients"], ac)
    return terms


def key_order(key, variant):
    if variant == "tie-utf16":
        return key.encode("utf-16-be")
    return key.encode("utf-8")


def select(flag_key, subject_key, model, subject, actions, variant=None, exact=False):
    """Spec 5 steps 4-8. Returns a dict with the working (exact=True: Fractions)."""
    num = Fraction if exact else float
    data = model["modelData"]
    # duplicate action keys: the last entry wins (docs/reference.md)
    if variant == "dupes-all":
        acts = [(a["actionKey"], a) for a in actions]
    else:
        by_key = {}
        for a in actions:
            if variant == "dupes-first" and a["actionKey"] in by_key:
                continue
            by_key[a["actionKey"]] = a
        acts = list(by_key.items())
    n = len(acts)
    sn = clean_numeric(subject.get("numericAttributes", {}), variant)
    sc = clean_categorical(subject.get("categoricalAttributes", {}), variant)
    rows = []
    for key, a in acts:
        coef = data["coefficients"].get(key)
        if coef is None:
            terms = [("defaultActionScore", 0.0 if variant == "default-score-0" else data["defaultActionScore"])]
        else:
            terms = score_terms(coef, sn, sc, clean_numeric(a.get("numericAttributes", {}), variant),
                                clean_categorical(a.get("categoricalAttributes", {}), variant), variant)
        if exact:
            if not all(math.isfinite(t) for _, t in terms):
                return None  # no exact model of infinities
            score = sum((Fraction(t) for _, t in terms), Fraction(0))
        else:
            score = 0.0
            for _, t in terms:
                score += t
        rows.append({"key": key, "shard": shuffle_shard(flag_key, subject_key, key), "terms": terms, "score": score})
    if variant != "no-shuffle":
        rows.sort(key=lambda r: (r["shard"], key_order(r["key"], None)))
    # best: highest score, ties to the byte-wise smaller key
    best = None
    for r in rows:
        if best is None or r["score"] > best["score"]:
            best = r
        elif r["score"] == best["score"]:
            smaller = key_order(r["key"], variant) < key_order(best["key"], variant)
            if (variant == "tie-larger-key") != smaller:
                best = r
    gamma = num(1.0 if variant == "gamma-1" else data["gamma"])
    floor = num(0.0 if variant == "no-floor" else data["actionProbabilityFloor"])
    others = num(0)
    for r in rows:
        if r is best:
            continue
        gap = best["score"] - r["score"]
        if exact:
            w = max(Fraction(1) / (n + gamma * gap), floor / n)
        else:
            w = max(1.0 / (n + gamma * gap), floor / n)
        r["weight"] = w
        others += w
    best["weight"] = 1 - others if variant == "no-clamp" else max(1 - others, num(0))
    shard = selection_shard(flag_key, subject_key)
    sel = Fraction(shard, 10000) if exact else shard / 10000
    running = num(0)
    chosen = None
    for r in rows:
        running += r["weight"]
        r["running"] = running
        hit = running >= sel if variant == "select-gte" else running > sel
        if chosen is None and hit:
            chosen = r
    fell_through = chosen is None
    if fell_through:
        chosen = rows[-1]
    return {"rows": rows, "best": best, "n": n, "shard": shard, "sel": sel, "chosen": chosen,
            "fell_through": fell_through}


def derive(config, models, flag_key, default, subject, variant=None):
    """The full bandit request: returns (assignment, working)."""
    attrs = dict(subject["subjectAttributes"].get("numericAttributes", {}))
    cat = subject["subjectAttributes"].get("categoricalAttributes", {})
    if variant == "merge-numeric-wins":
        attrs = {**cat, **attrs}
    else:
        attrs.update(cat)
    value, how = evaluate_flag(config, flag_key, subject["subjectKey"], attrs)
    served_default = value is None
    if served_default:
        value = default
    working = {"flag": how, "variation": value}
    bandit = bandit_link(config, flag_key, value)
    if bandit is None or (served_default and variant == "default-no-bandit"):
        working["why"] = "variation not linked to a bandit"
        return {"variation": value, "action": None}, working
    working["bandit"] = bandit
    model = models["bandits"].get(bandit)
    if model is None:
        working["why"] = "linked bandit has no model"
        return {"variation": value, "action": None}, working
    if not subject["actions"]:
        working["why"] = "no actions supplied"
        return {"variation": value, "action": None}, working
    res = select(flag_key, subject["subjectKey"], model, subject["subjectAttributes"], subject["actions"], variant)
    working["select"] = res
    if variant is None:
        working["exact"] = select(flag_key, subject["subjectKey"], model, subject["subjectAttributes"],
                                  subject["actions"], None, exact=True)
    return {"variation": value, "action": res["chosen"]["key"]}, working


# ---------------------------------------------------------------- reporting

def fmt(x):
    if isinstance(x, Fraction):
        x = float(x)
    return repr(x)


def report(config, models, tf, subject, out):
    flag, default = tf["flag"], tf["defaultValue"]
    got, w = derive(config, models, flag, default, subject)
    out.append(f"  {subject['subjectKey']}: flag {w['flag']} -> variation {w['variation']!r}")
    fragile = False
    if "select" in w:
        res, ex = w["select"], w["exact"]
        out.append(f"    bandit {w['bandit']}, N={res['n']}, best {res['best']['key']!r} "
                   f"(score {fmt(res['best']['score'])}), selection {res['shard']}/10000 = {fmt(res['sel'])}")
        for r in res["rows"]:
            mark = "  <- chosen" if r is res["chosen"] else ""
            terms = " + ".join(f"[{lbl}: {fmt(t)}]" for lbl, t in r["terms"])
            out.append(f"      {r['key']!r:12} shuffle {r['shard']:4}  score {fmt(r['score']):>22}  "
                       f"weight {fmt(r['weight']):>22}  running {fmt(r['running']):>20}{mark}")
            out.append(f"          = {terms}")
        if res["fell_through"]:
            out.append("      (running sum never exceeded the selection value: last action taken)")
        if ex is None:
            out.append("      exact walk: skipped (an infinite score; see README)")
        else:
            for r, e in zip(res["rows"], ex["rows"]):
                if (r["running"] > res["sel"]) != (e["running"] > ex["sel"]):
                    fragile = True
                    out.append(f"      FRAGILE: at {r['key']!r} the float and exact walks disagree")
                gap = abs(e["running"] - ex["sel"])
                if gap == 0:
                    out.append(f"      the selection value equals the running sum at {r['key']!r} exactly"
                               + (" (that sum is exact in binary)" if Fraction(r["running"]) == e["running"] else ""))
                    if Fraction(r["running"]) != e["running"]:
                        fragile = True
                        out.append("      FRAGILE: a boundary hit on an inexact running sum")
                elif gap < Fraction(1, 10 ** 9):
                    fragile = True
                    out.append(f"      FRAGILE: the selection value is within 1e-9 of the running sum at {r['key']!r}")
            m = min(abs(e["running"] - ex["sel"]) for e in ex["rows"] if e["running"] != ex["sel"]) \
                if any(e["running"] != ex["sel"] for e in ex["rows"]) else None
            if m is not None:
                out.append(f"      margin to the nearest other running sum: {float(m):.6g}")
    else:
        out.append(f"    no action: {w['why']}")
    diffs = []
    for v in VARIANTS:
        alt, _ = derive(config, models, flag, default, subject, v)
        if alt != got:
            diffs.append(f"{v} -> {alt['variation']!r}/{alt['action']!r}")
    out.append("    discriminates: " + ("; ".join(diffs) if diffs else "(none of the variants)"))
    out.append(f"    => {json.dumps(got, ensure_ascii=False)}")
    return got, fragile


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    if argv and argv[0] == "find":
        flag, prefix, lo, hi = argv[1], argv[2], int(argv[3]), int(argv[4])
        count = int(argv[5]) if len(argv) > 5 else 5
        i = 0
        while count:
            key = f"{prefix}-{i}"
            s = selection_shard(flag, key)
            if lo <= s < hi:
                print(key, s)
                count -= 1
            i += 1
        return 0
    quiet = "-q" in argv
    files = [a for a in argv if a != "-q"] or sorted(
        os.path.join(TESTS, f) for f in os.listdir(TESTS) if f.endswith(".json"))
    config, models = load(FLAGS), load(MODELS)
    problems, subjects = [], 0
    for path in files:
        tf = load(path)
        out = [f"{os.path.basename(path)}: flag {tf['flag']!r}, default {tf['defaultValue']!r}"]
        for s in tf["subjects"]:
            subjects += 1
            got, fragile = report(config, models, tf, s, out)
            if got != s["assignment"]:
                problems.append(f"{os.path.basename(path)}/{s['subjectKey']}: file says "
                                f"{json.dumps(s['assignment'])}, derivation says {json.dumps(got)}")
            if fragile:
                problems.append(f"{os.path.basename(path)}/{s['subjectKey']}: fragile")
        if not quiet:
            print("\n".join(out))
            print()
    print(f"{len(files)} files, {subjects} subjects")
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
