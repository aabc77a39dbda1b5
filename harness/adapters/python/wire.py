"""The Python adapter's protocol lines: parsing requests, writing answers.

orjson does most of both (the standard json module cost the adapter about
3 us of CPU per fuzzed case more, parsing and writing, measured on the
recorded fuzz batches). It is exact wherever it is used: where it would
read or write a value differently from json, this module hands the line
to json, which keeps the protocol's rules (non-finite numbers, integers
of any size).
"""

import json
import math
import re

from adapter_common import finite  # python-shared, on the path the adapter set

try:  # installed beside the SDK (requirements.txt)
    import orjson
except ImportError:  # a venv made before the adapter asked for it: json alone, slower
    orjson = None

# An integer literal orjson cannot hold exactly (outside [-2^63, 2^64), which
# it reads as a float without a word) has at least 19 digits.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_WIDE_RUN = b"0" * 19
_ZEROS = re.compile(rb"0+")
_WHITESPACE = b" \t\r\n"
_BEFORE_NUMBER = b":[,"  # what a JSON number can follow (besides the line's start)


def may_hold_wide_integer(line):
    """Whether `line` may hold an integer literal outside [-2^63, 2^64).

    Conservative: a run of 19 or more digits that a JSON number could start
    with (after `:`, `[`, `,` or at the start, whitespace and a minus
    skipped) is read as an integer and range-checked; digits inside strings
    usually follow a quote and are skipped. Every run is found with
    bytes.find on the line's digits turned to zeros, so the cost is a scan
    of the line (about 0.5 us per case on the fuzz batches)."""
    digits = line.translate(_DIGITS_AS_ZERO)
    start = digits.find(_WIDE_RUN)
    while start >= 0:
        end = _ZEROS.match(digits, start).end()
        first = start - 1 if start > 0 and line[start - 1] == 0x2D else start  # the minus sign
        i = first - 1
        while i >= 0 and line[i] in _WHITESPACE:
            i -= 1
        if i < 0 or line[i] in _BEFORE_NUMBER:
            if not -(1 << 63) <= int(line[first:end]) < (1 << 64):
                return True
        start = digits.find(_WIDE_RUN, end)
    return False


class Requests:
    """Parses request lines (bytes), noting whether one held a number that
    is not finite (`NaN`, `Infinity`, or a literal too large for a double).

    orjson reads a line unless it may hold an integer beyond 64 bits; it
    refuses what is not strict JSON (those spellings, overflowing floats,
    lone surrogates), and json then reads the line with hooks that note
    the non-finite numbers. So a line orjson read has only finite ones."""

    def __init__(self):
        self.non_finite = False
        self.decoder = json.JSONDecoder(parse_constant=self._constant, parse_float=self._float)

    def _constant(self, name):
        self.non_finite = True
        return float(name)

    def _float(self, text):
        value = float(text)
        if not math.isfinite(value):
            self.non_finite = True
        return value

    def parse(self, line):
        self.non_finite = False
        if orjson is not None and not may_hold_wide_integer(line):
            try:
                return orjson.loads(line)
            except orjson.JSONDecodeError:
                pass  # json decides, and words the error
        return self.decoder.decode(line.decode("utf-8"))


_LEAVES = frozenset((str, int, bool, type(None)))  # what JSON answers mostly hold


def has_non_finite(value):
    """Whether `value` holds a float that is not finite: `finite` without
    the copy, for the answers that could hold one (orjson would write it
    as null). Leaves of the usual types are skipped without a call, which
    most of a walk's nodes are."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (list, tuple)):
        return False
    for v in value:
        if type(v) not in _LEAVES and has_non_finite(v):
            return True
    return False


def dump_config(value, non_finite):
    """The bytes the SDK parses for an inline configuration, with what the
    request held; `non_finite`: it held a number that is not finite, which
    json writes as `NaN` (refused by the SDK, as it should be) and orjson
    would write as null. Once per batch, but json took about 2 us per case."""
    if orjson is not None and not non_finite:
        try:
            return orjson.dumps(value)
        except TypeError:  # an integer beyond 64 bits, a lone surrogate: json writes those
            pass
    return json.dumps(value).encode()


def encode(msg, finite_only):
    """One answer line. `finite_only`: nothing in `msg` is a non-finite
    float, so orjson (which would write them as null) may write it; it
    refuses integers beyond 64 bits, which take the json path."""
    if finite_only and orjson is not None:
        try:
            return orjson.dumps(msg, default=repr, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            pass
    # Walking the answer for non-finite numbers costs more than writing it;
    # they are rare, so the walk is only the fallback.
    try:
        text = json.dumps(msg, default=repr, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(finite(msg), default=repr, allow_nan=False, separators=(",", ":"))
    return (text + "\n").encode()
