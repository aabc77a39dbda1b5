#!/usr/bin/env python3
"""Writes the obfuscated (CLIENT) twin of a flag configuration (stdlib only).

Usage: python3 ufc-fixtures/obfuscate.py ufc-fixtures/<group>/flags-v1.json [...]

Each FILE.json gets FILE-obfuscated.json beside it, encoded as spec section 6
says: MD5 hex of flag keys, condition attributes and operators, ONE_OF values
and IS_NULL's "true"/"false"; base64 of the string form of variation keys and
values, allocation keys, dates, split variation keys, salts, extraLogging and
the other condition values. `ufc-harness run --obfuscated` then runs the
group's test files against the twin. This script is independent of the Rust
code that reads the format, so the two check each other.

The format cannot say that a variation value has the wrong JSON type (a
string "5" in an INTEGER flag reads back as 5), so groups built on mistyped
values (types/) have no twin.

Values that are not of the type a field needs (a number inside ONE_OF, a
string IS_NULL) are left as they are: encoding them would turn an invalid
condition into a valid one.
"""
import base64
import hashlib
import json
import sys


def md5(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def string_form(value):
    """The text a value is encoded from: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def condition(c):
    operator = c.get("operator")
    value = c.get("value")
    out = {"operator": md5(operator) if isinstance(operator, str) else operator,
           "attribute": md5(c["attribute"]) if isinstance(c.get("attribute"), str) else c.get("attribute")}
    if operator in ("ONE_OF", "NOT_ONE_OF") and isinstance(value, list):
        out["value"] = [md5(v) if isinstance(v, str) else v for v in value]
    elif operator == "IS_NULL":
        out["value"] = md5(json.dumps(value)) if isinstance(value, bool) else value
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        out["value"] = b64(string_form(value))
    else:
        out["value"] = value
    return out


def split(s):
    out = dict(s)
    out["variationKey"] = b64(s["variationKey"])
    out["shards"] = [dict(shard, salt=b64(shard["salt"])) for shard in s.get("shards", [])]
    if isinstance(s.get("extraLogging"), dict):
        out["extraLogging"] = {b64(k): b64(string_form(v)) for k, v in s["extraLogging"].items()}
    return out


def allocation(a):
    out = dict(a)
    out["key"] = b64(a["key"])
    for field in ("startAt", "endAt"):
        if isinstance(a.get(field), str):
            out[field] = b64(a[field])
    if "rules" in a:
        out["rules"] = [{"conditions": [condition(c) for c in r["conditions"]]} for r in a["rules"]]
    out["splits"] = [split(s) for s in a["splits"]]
    return out


def flag(f):
    out = dict(f)
    out["key"] = md5(f["key"])
    out["variations"] = {
        b64(name): {"key": b64(v["key"]), "value": b64(string_form(v["value"]))}
        for name, v in f["variations"].items()
    }
    out["allocations"] = [allocation(a) for a in f["allocations"]]
    return out


def main(paths):
    for path in paths:
        with open(path) as fh:
            config = json.load(fh)
        config["format"] = "CLIENT"
        config["flags"] = {md5(key): flag(f) for key, f in config["flags"].items()}
        # Bandit links are not part of this twin: bandit cases are not run against it.
        config.pop("bandits", None)
        config.pop("banditReferences", None)
        target = path[: -len(".json")] + "-obfuscated.json"
        with open(target, "w") as fh:
            json.dump(config, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
