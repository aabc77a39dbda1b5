#!/usr/bin/env python3
"""Writes the scenario configurations (`ufc-harness scenarios`) into this folder.

Small UFC documents whose differences are what scenarios test: v2 changes
the `greeting` assignment (variation and allocation), v3 removes `greeting`;
`quiet` has doLog false; `cohort` assigns by country (two allocations).
The bandit pair derives from ../bandits: one flag over `score-bandit`, whose
model (and the flag's modelVersion) changes between b1 and b2.
Run: python3 ufc-fixtures/scenarios/make.py
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def flag(key, value, allocation, do_log=True, rules=None, extra=()):
    allocations = [{"key": allocation, "rules": rules or [], "splits": [{"variationKey": value, "shards": []}],
                    "doLog": do_log}]
    variations = {value: {"key": value, "value": value}}
    for key2, value2, alloc2 in extra:
        variations[value2] = {"key": value2, "value": value2}
        allocations.append({"key": alloc2, "rules": [], "splits": [{"variationKey": value2, "shards": []}],
                            "doLog": True})
    return {"key": key, "enabled": True, "variationType": "STRING", "variations": variations,
            "allocations": allocations, "totalShards": 10000}


def document(flags):
    return {"createdAt": "2026-01-15T12:00:00.000Z", "format": "SERVER", "environment": {"name": "Scenario"},
            "flags": {f["key"]: f for f in flags}}


us = [{"conditions": [{"attribute": "country", "operator": "ONE_OF", "value": ["US"]}]}]
quiet = flag("quiet", "shh", "everyone", do_log=False)
cohort = flag("cohort", "us-cohort", "us-only", rules=us, extra=[("cohort", "rest-cohort", "everyone-else")])
configs = {
    "greeting-v1.json": document([flag("greeting", "hello", "rollout-v1"), quiet, cohort]),
    "greeting-v2.json": document([flag("greeting", "bonjour", "rollout-v2"), quiet, cohort]),
    "greeting-v3.json": document([quiet, cohort]),
}

with open(os.path.join(HERE, "..", "bandits", "flags-v1.json")) as f:
    bandit_flags = json.load(f)
with open(os.path.join(HERE, "..", "bandits", "bandit-models-v1.json")) as f:
    bandit_models = json.load(f)
single = bandit_flags["flags"]["bf-single"]
reference = copy.deepcopy(bandit_flags["banditReferences"]["score-bandit"])
reference["flagVariations"] = [v for v in reference["flagVariations"] if v["flagKey"] == "bf-single"]
model = bandit_models["bandits"]["score-bandit"]


def bandit_pair(version, model_data):
    flags = document([single])
    ref = copy.deepcopy(reference)
    ref["modelVersion"] = version
    flags["banditReferences"] = {"score-bandit": ref}
    # Eppo serves both maps; the RS core decides to fetch models from this one.
    flags["bandits"] = {"score-bandit": [v for v in bandit_flags["bandits"]["score-bandit"] if v["flagKey"] == "bf-single"]}
    changed = copy.deepcopy(model)
    changed["modelVersion"] = version
    changed["modelData"] = model_data
    models = {"updatedAt": "2026-01-15T12:00:00.000Z", "environment": {"name": "Scenario"},
              "bandits": {"score-bandit": changed}}
    return flags, models


b1_flags, b1_models = bandit_pair("score-v1", model["modelData"])
# b2: every action's intercept reversed in order, so the best action changes.
data2 = copy.deepcopy(model["modelData"])
keys = sorted(data2["coefficients"])
intercepts = [data2["coefficients"][k]["intercept"] for k in keys]
for k, v in zip(keys, reversed(intercepts)):
    data2["coefficients"][k]["intercept"] = v * 10
b2_flags, b2_models = bandit_pair("score-v2", data2)
configs.update({
    "bandit-flags-b1.json": b1_flags, "bandit-models-b1.json": b1_models,
    "bandit-flags-b2.json": b2_flags, "bandit-models-b2.json": b2_models,
    # The flag's model is missing from what the bandit endpoint serves.
    "bandit-models-none.json": {"updatedAt": "2026-01-15T12:00:00.000Z", "bandits": {}},
})
for name, doc in configs.items():
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
