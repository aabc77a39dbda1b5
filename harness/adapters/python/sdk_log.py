"""The SDK's log lines, held during a batch and written to stderr in one go.

The SDK's Rust core logs through Python's `logging` (logger "eppo"); with
no handler configured, each record went to `logging.lastResort`, one
write and flush of stderr per line, and the fuzzer's odd configurations
make about one case in eight log a warning. This handler keeps
lastResort's output (the WARNING threshold, the bare message) and,
while `held`, only collects the lines, so an `evaluate` writes them with
one call after its cases.
"""

import logging
import sys


class HeldStderr(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)  # as lastResort
        self.held = None  # a list of lines while holding, else None

    def emit(self, record):
        line = self.format(record) + "\n"
        if self.held is not None:
            self.held.append(line)
        else:
            sys.stderr.write(line)
            sys.stderr.flush()

    def hold(self):
        with self.lock:
            self.held = []

    def release(self):
        """Write what was held (before the answer, as lastResort did)."""
        with self.lock:  # emit runs under it: a poller thread's line is not lost
            held, self.held = self.held, None
        if held:
            sys.stderr.write("".join(held))
            sys.stderr.flush()


def install(handler=None):
    """The handler on the SDK's logger, which the core looks up by name
    (adding it again is harmless: logging keeps one of each)."""
    handler = handler or HeldStderr()
    logging.getLogger("eppo").addHandler(handler)
    return handler


def uninstall(handler):
    """Back to lastResort, for an online client: with this handler on, the
    first `evaluate` while the core's poller logged its failed fetches hung
    (scenario first-fetch-500-then-recovers, no answer within 30 s)."""
    logging.getLogger("eppo").removeHandler(handler)
