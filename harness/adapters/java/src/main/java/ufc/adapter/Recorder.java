package ufc.adapter;

import cloud.eppo.logging.Assignment;
import cloud.eppo.logging.AssignmentLogger;
import cloud.eppo.logging.BanditAssignment;
import cloud.eppo.logging.BanditLogger;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Both loggers the client is given. During a case ({@link #start} to {@link #finish}) what they
 * receive is that case's; at any other time it is kept as pending, which {@code drainEvents}
 * hands out with the number of calls. Muted (bench loops) drops everything. A throwing recorder
 * keeps each call, then throws, to see whether a failing logger changes what the SDK serves.
 *
 * <p>The core calls its loggers on the evaluating thread, so nothing arrives outside a case in
 * practice; the methods are synchronized all the same, as the poller runs on threads of its own.
 */
final class Recorder implements AssignmentLogger, BanditLogger {
  private final boolean throwing;
  private boolean recording;
  private boolean muted;
  private final List<Assignment> assignments = new ArrayList<>();
  private final List<BanditAssignment> bandits = new ArrayList<>();
  private final List<Assignment> pendingAssignments = new ArrayList<>();
  private final List<BanditAssignment> pendingBandits = new ArrayList<>();
  private long pendingCalls;

  Recorder(boolean throwing) {
    this.throwing = throwing;
  }

  /** A case begins: what the loggers receive from now on is its own. */
  synchronized void start() {
    assignments.clear();
    bandits.clear();
    recording = true;
    muted = false;
  }

  /** The case answered: its events into {@code result}. */
  synchronized void finish(ObjectNode result) {
    recording = false;
    ArrayNode a = result.putArray("assignmentEvents");
    assignments.forEach(e -> a.add(Json.json(e)));
    ArrayNode b = result.putArray("banditEvents");
    bandits.forEach(e -> b.add(Json.json(e)));
  }

  /** The case raised: no result reports what it logged, so it becomes pending. */
  synchronized void abandon() {
    recording = false;
    pendingAssignments.addAll(assignments);
    pendingBandits.addAll(bandits);
    pendingCalls += assignments.size() + bandits.size();
  }

  /** Bench loops: the loggers still receive every event, and drop it. */
  synchronized void mute() {
    recording = false;
    muted = true;
  }

  /** {@code drainEvents}: everything pending, then none. */
  synchronized void drain(ObjectNode response) {
    ArrayNode a = response.putArray("assignmentEvents");
    pendingAssignments.forEach(e -> a.add(Json.json(e)));
    ArrayNode b = response.putArray("banditEvents");
    pendingBandits.forEach(e -> b.add(Json.json(e)));
    response.put("loggerCalls", pendingCalls);
    pendingAssignments.clear();
    pendingBandits.clear();
    pendingCalls = 0;
  }

  @Override
  public void logAssignment(Assignment assignment) {
    keep(assignment, assignments, pendingAssignments);
  }

  @Override
  public void logBanditAssignment(BanditAssignment banditAssignment) {
    keep(banditAssignment, bandits, pendingBandits);
  }

  private <T> void keep(T event, List<T> caseList, List<T> pendingList) {
    synchronized (this) {
      if (muted) {
        return;
      }
      if (recording) {
        caseList.add(event);
      } else {
        pendingList.add(event);
        pendingCalls++;
      }
    }
    if (throwing) {
      throw new IllegalStateException("harness: throwing logger");
    }
  }
}
