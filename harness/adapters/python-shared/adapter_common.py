"""What the two Python adapters (python: eppo-server-sdk 4.x, python-pure:
3.7.0) share: the timed bench loop, the protocol's spelling of non-finite
numbers, and for the online `init` op the
`Config` keywords both SDK generations take alike (`api_key`, `base_url`,
`assignment_logger`, `poll_interval_seconds`, `poll_jitter_seconds`) with
the same kind of `AssignmentCacheLogger` wrapper. Standard library only.
"""

import math
import sys
import time


def bench_loop(logger, call, flag, args, default, n):
    """`n` calls cycling through `args`, timed, with `logger` muted (it
    drops everything the SDK hands it during the loop)."""
    logger.stop()
    logger.muted = True
    m = len(args)
    try:
        start = time.perf_counter_ns()
        for i in range(n):
            call(flag, *args[i % m], default)
        elapsed = time.perf_counter_ns() - start
    finally:
        logger.muted = False
    return {"iterations": n, "elapsedNs": elapsed}


def finite(value):
    """JSON has no NaN or infinities; the protocol spells them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def whole_seconds(ms, what):
    """Both SDKs take whole seconds: refuse what they cannot be given."""
    if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0 or ms % 1000:
        raise ValueError(f"{what} {ms!r} ms: the SDK takes whole seconds")
    return ms // 1000


def recorder_and_config(req, recorder_class, cache_logger_class):
    """The adapter's recorder for an `init` request (raising after each
    call for `logger: "throwing"`) and the `Config` keywords around it."""
    logger = recorder_class(throwing=req.get("logger", "recording") == "throwing")
    return logger, config_kwargs(req, logger, cache_logger_class)


def config_kwargs(req, logger, cache_logger_class):
    """The `Config` keywords for an `init` request, with `logger` (the
    adapter's recorder) wrapped in the SDK's `cache_logger_class` when the
    request asks for its dedup caches."""
    interval = whole_seconds(req.get("pollIntervalMs"), "pollIntervalMs")
    if interval < 1:
        raise ValueError("pollIntervalMs below 1000: the SDK's minimum is 1 s")
    kwargs = {"api_key": req["sdkKey"], "base_url": req["baseUrl"].rstrip("/") + "/api",
              "assignment_logger": logger, "poll_interval_seconds": interval}
    if req.get("pollJitterMs") is not None:  # an adapter extension: option "pollJitter"
        kwargs["poll_jitter_seconds"] = whole_seconds(req["pollJitterMs"], "pollJitterMs")
    if req.get("assignmentCache") or req.get("banditCache"):
        # The SDK's own dedup: a wrapper keyed by (flag, subject) that skips a
        # repeat of the same (allocation, variation) / (bandit, action).
        kwargs["assignment_logger"] = cache_logger_class(
            logger, assignment_cache={} if req.get("assignmentCache") else None,
            bandit_cache={} if req.get("banditCache") else None)
    return kwargs


def handle(line, parse, ops, send, stop_online):
    """Answer one request line: `parse` reads it, `ops` answers it and
    `send(answer, op)` writes the answer (`op` None for an error). False
    after `shutdown`."""
    req_id = None
    try:
        req = parse(line)
        if not isinstance(req, dict):
            raise ValueError("request is not a JSON object")
        req_id, op = req.get("id"), req.get("op")
        if op == "shutdown":
            stop_online()
            send({"id": req_id, "ok": True}, op)
            return False
        if op not in ops:
            raise ValueError(f"unknown op {op!r}")
        send({"id": req_id, "ok": True, **ops[op](req)}, op)
    except Exception as e:
        print(f"adapter: request failed: {type(e).__name__}: {e}", file=sys.stderr)
        send({"id": req_id, "ok": False, "error": f"{type(e).__name__}: {e}"}, None)
    return True
