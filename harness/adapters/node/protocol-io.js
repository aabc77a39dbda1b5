// The adapter's three byte channels (docs/protocol.md section 1): request
// lines from stdin, answer lines to stdout, diagnostics to stderr.
//
// Load this module before the SDK: it claims file descriptor 1 for answers
// and points console output and `process.stdout` at stderr, so nothing a
// library prints can land in the protocol stream.
'use strict';

const fs = require('fs');
const util = require('util');

const STDOUT_FD = 1;

// `process.stdout` is never opened: its stream would put descriptor 1 in
// non-blocking mode and copy every answer into a new Buffer before writing
// it. Answers go out through blocking fs.writev calls instead (about half
// the CPU per byte written, measured on 100 MB of answers). Anything else that
// asks for process.stdout gets stderr.
Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => process.stderr });

// Atomics.wait on this buffer sleeps without spinning; see writeSome.
const pause = new Int32Array(new SharedArrayBuffer(4));

// One writev(2) of `chunks` (Buffers), retried while descriptor 1 is full:
// EAGAIN only comes when the harness handed us a non-blocking pipe.
function writeSome(chunks) {
  for (;;) {
    try {
      return fs.writevSync(STDOUT_FD, chunks);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

// Writes one whole answer line, given as Buffers; returns once the kernel
// has all of it. A blocking pipe takes it in one call; a signal can cut
// that short.
function writeAnswer(chunks) {
  let rest = chunks.filter((chunk) => chunk.length > 0);
  while (rest.length > 0) {
    let written = writeSome(rest);
    while (rest.length > 0 && written >= rest[0].length) written -= rest.shift().length;
    if (written > 0) rest[0] = rest[0].subarray(written);
  }
}

// A growing byte buffer for the text of a batch's results, kept from one
// answer to the next: results are encoded as UTF-8 into it one at a time,
// rather than joined into one string per answer and encoded again (that
// join and the answer-sized strings were a sixth of the adapter's time).
class TextBytes {
  constructor() {
    this.bytes = Buffer.allocUnsafe(1 << 20);
    this.length = 0;
  }

  clear() {
    this.length = 0;
  }

  append(text) {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    const room = this.length + 3 * text.length;
    if (room > this.bytes.length) {
      const larger = Buffer.allocUnsafe(Math.max(room, 2 * this.bytes.length));
      this.bytes.copy(larger, 0, 0, this.length);
      this.bytes = larger;
    }
    this.length += this.bytes.write(text, this.length);
  }

  // The bytes so far; valid until the next clear or append.
  view() {
    return this.bytes.subarray(0, this.length);
  }
}

// Request lines, decoded as UTF-8 only once a whole line is in (a request
// can span many reads, and a multi-byte character two). Lines end at \n;
// a \r before it is dropped. readline, used before, cost as much as the
// JSON parsing of the requests (its line-break regex and string decoder).
async function* requestLines(input) {
  let parts = [];
  for await (const chunk of input) {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      parts.push(chunk.subarray(start, end));
      yield decodeLine(parts);
      parts = [];
      start = end + 1;
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  }
  if (parts.length > 0) yield decodeLine(parts);
}

function decodeLine(parts) {
  const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}

// Diagnostics are kept and written to stderr in one piece before each
// answer (or once 64 kB have piled up): the SDK logs a line for about a third
// of fuzzed cases, and a write per line cost a third of the adapter's time.
const diagnostics = { lines: [], bytes: 0 };

function flushDiagnostics() {
  if (diagnostics.lines.length === 0) return;
  const text = diagnostics.lines.join('\n') + '\n';
  diagnostics.lines = [];
  diagnostics.bytes = 0;
  process.stderr.write(text);
}

// Errors that util.inspect prints as their stack and nothing else: a
// builtin class under its own name, no own enumerable keys, no cause.
const PLAIN_ERRORS = new Set([Error, TypeError, SyntaxError, RangeError, ReferenceError]
  .map((type) => type.prototype));
function plainError(value) {
  return value instanceof Error && PLAIN_ERRORS.has(Object.getPrototypeOf(value))
    && value.name === value.constructor.name && typeof value.stack === 'string'
    && Object.keys(value).length === 0 && !Object.hasOwn(value, 'cause');
}

// util.format(...args), short-cut for the SDK's two usual shapes: a prefix
// and a message (its logger, rerouted below the SDK's load), and a prefix
// and a plain error (console.error('>>>>', err) in its evaluator, a few
// per cent of fuzzed cases). util.inspect took as long again as V8 takes
// to build the error's stack text.
function formatDiagnostic(args) {
  if (args.length === 2 && typeof args[0] === 'string' && !args[0].includes('%')) {
    const detail = args[1];
    if (typeof detail === 'string') return `${args[0]} ${detail}`;
    if (plainError(detail)) return `${args[0]} ${detail.stack}`;
  }
  return util.format(...args);
}

function diagnose(...args) {
  const line = formatDiagnostic(args);
  diagnostics.lines.push(line);
  diagnostics.bytes += line.length;
  if (diagnostics.bytes > 65536) flushDiagnostics();
}

process.on('exit', flushDiagnostics);
for (const name of ['log', 'info', 'warn', 'debug', 'trace', 'error']) console[name] = diagnose;

module.exports = { requestLines, writeAnswer, TextBytes, flushDiagnostics };
