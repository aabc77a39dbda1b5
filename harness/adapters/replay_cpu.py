#!/usr/bin/env python3
"""CPU time an adapter spends per fuzzed case, the harness left out.

Usage: replay_cpu.py RECORDING ADAPTER_RUN

RECORDING is what a fuzz run sent one adapter, taken with `tee`:

    ufc-harness fuzz --adapter "python=tee rec.jsonl | target/ufc-adapters/python/run" --cases 20000 --seed 1

Only the generated batches are replayed (a `configure` and the `evaluate`
of at least 256 cases after it); the minimizer's small candidates would
measure configuration loading instead. Prints the adapter process's user +
system CPU time per case. Standard library only.
"""

import json
import resource
import subprocess
import sys

BATCH = 256  # fewer cases than this: a minimizer's candidate


def batches(path):
    """hello, then every configure whose evaluate is a whole batch, with it."""
    kept, cases, pending = [], 0, None
    with open(path) as f:
        for line in f:
            op = json.loads(line).get("op")
            if op == "hello" and not kept:
                kept.append(line)
            elif op == "configure":
                pending = line
            elif op == "evaluate" and pending is not None:
                n = len(json.loads(line).get("cases") or [])
                if n >= BATCH:
                    kept += [pending, line]
                    cases += n
                pending = None
    return kept, cases


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    requests, cases = batches(sys.argv[1])
    if cases == 0:
        sys.exit(f"{sys.argv[1]}: no batch of {BATCH} cases or more")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.argv[2]], input="".join(requests), text=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"{cases} cases in {len(requests) // 2} batches: {cpu:.2f} s CPU, {cpu / cases * 1e6:.1f} us/case")


if __name__ == "__main__":
    main()
