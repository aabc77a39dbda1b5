// What the SDK's loggers received, for the js-client adapter (docs/protocol.md,
// sections 3 and 7).
//
// While a case is evaluated the events go to that case's lists; at any other
// time (a poll, a flush of queued events, a case that threw) they are kept in
// `pending` for `drainEvents`, with a count of the logger calls. Bench loops
// mute the loggers. A throwing logger records each call, then throws, to
// check that the SDK keeps serving when its logger fails.
'use strict';

// Each event is copied when logged: the core keeps mutating the details
// object an event shares with the value it returns.
const copyJson = (value) => JSON.parse(JSON.stringify(value));

const emptyPending = () => ({ assignmentEvents: [], banditEvents: [], loggerCalls: 0 });

class Recorder {
  constructor() {
    this.reset(false);
    // The loggers handed to every client; bound once, so a client keeps
    // reporting here across resets.
    this.assignmentLogger = { logAssignment: (event) => this.keep(event, 'assignments', 'assignmentEvents') };
    this.banditLogger = { logBanditAction: (event) => this.keep(event, 'bandits', 'banditEvents') };
  }

  // Forgets everything and sets whether the loggers throw.
  reset(throwing) {
    Object.assign(this, { inCase: false, muted: false, throwing, assignments: [], bandits: [] });
    this.pending = emptyPending();
  }

  keep(event, caseList, pendingList) {
    if (this.muted) return;
    if (this.inCase) {
      this[caseList].push(copyJson(event));
    } else {
      this.pending[pendingList].push(copyJson(event));
      this.pending.loggerCalls += 1;
    }
    if (this.throwing) throw new Error('harness: throwing logger');
  }

  startCase() {
    Object.assign(this, { inCase: true, assignments: [], bandits: [] });
  }

  // What the case's loggers received; the case is over.
  finishCase() {
    this.inCase = false;
    return { assignmentEvents: this.assignments, banditEvents: this.bandits };
  }

  // The case threw: no result reports what it logged, so drainEvents will.
  abandonCase() {
    const { assignmentEvents, banditEvents } = this.finishCase();
    this.pending.assignmentEvents.push(...assignmentEvents);
    this.pending.banditEvents.push(...banditEvents);
    this.pending.loggerCalls += assignmentEvents.length + banditEvents.length;
  }

  // Everything kept outside a case since the last drain.
  drain() {
    const drained = this.pending;
    this.pending = emptyPending();
    return drained;
  }

  // Runs `body` with the loggers dropping everything (bench loops).
  muting(body) {
    this.muted = true;
    try {
      return body();
    } finally {
      this.muted = false;
    }
  }
}

module.exports = { Recorder, copyJson };
