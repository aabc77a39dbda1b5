package ufc.adapter;

import cloud.eppo.BaseEppoClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The online client (capability {@code online}, docs/protocol.md section 7): the core's client
 * against the harness's mock CDN, started the way the Java server SDK's {@code
 * EppoClient.Builder.buildAndInit()} starts its singleton, which this class stands in for (Maven
 * Central here serves no {@code eppo-server-sdk}; its 5.1.0 is the release built on core 3.9.0).
 *
 * <p>What {@code buildAndInit} does, read from its sources, and so what {@link #start} does:
 * stop the previous instance's poller (with {@code forceReinitialize(true)} it is then replaced;
 * without, the old instance is kept, which a harness that re-inits cannot use); construct the
 * client; {@code loadConfiguration()}, one synchronous fetch of the flags (and of the bandits
 * when the flags reference model versions not loaded), which in graceful mode logs any failure
 * and returns; then, for a positive interval, {@code startPolling(interval, interval / 10)}.
 * There is no start-up timeout: the first fetch is bounded only by OkHttp's 10 s connect and read
 * timeouts, which no option changes. The core's poller is a {@link java.util.Timer}: each fetch is
 * scheduled the interval minus a uniform draw from [0, jitter) ms (at most half the interval)
 * after the previous one ended, whatever it returned.
 *
 * <p>{@code waitForInit: false}: the fetch and the poller start run on a thread of their own, as
 * when an application calls {@code buildAndInit()} off its request threads; {@code
 * EppoClient.getInstance()} already returns the client then, serving defaults until the fetch
 * succeeds.
 */
final class Online {
  /** {@code EppoClient}'s {@code DEFAULT_JITTER_INTERVAL_RATIO}: the jitter is a tenth. */
  private static final long JITTER_RATIO = 10;

  static final List<String> OPTIONS =
      List.of("pollInterval", "assignmentCache", "banditCache", "throwingLogger", "sdkKey");

  private final BaseEppoClient client;
  private final CoreClient.Lifecycle lifecycle;
  private final Thread starter;
  private boolean stopped;

  /** Whether this core release has what the online ops need (3.8 and later). */
  static boolean offered() {
    return CoreClient.Lifecycle.OF_THIS_RELEASE != null;
  }

  /** The {@code online} object of the {@code hello} answer. */
  static void describe(ObjectNode online) {
    // Any positive interval: a Timer delay in ms (0 would turn the poller off).
    online.put("minPollIntervalMs", 1);
    online.put(
        "pollJitter",
        "each fetch the interval minus a uniform draw from [0, interval/10) ms after the previous"
            + " one ended (EppoClient: startPolling(interval, interval / 10))");
    ArrayNode options = online.putArray("options");
    OPTIONS.forEach(options::add);
  }

  private Online(
      BaseEppoClient client, CoreClient.Lifecycle lifecycle, long intervalMs, boolean wait) {
    this.client = client;
    this.lifecycle = lifecycle;
    if (wait) {
      this.starter = null;
      loadThenPoll(intervalMs);
    } else {
      this.starter = new Thread(() -> loadThenPoll(intervalMs), "ufc-online-start");
      this.starter.setDaemon(true);
      this.starter.start();
    }
  }

  /**
   * Builds and starts the client for an {@code init} request; answers {@code initialized} and
   * {@code elapsedMs} into {@code response}.
   */
  static Online start(
      JsonNode request, String sdkName, String sdkVersion, Recorder recorder, ObjectNode response) {
    CoreClient.Lifecycle lifecycle = CoreClient.Lifecycle.OF_THIS_RELEASE;
    if (lifecycle == null) {
      throw new IllegalStateException(
          "this core release has no startPolling/stopPolling/getConfiguration (3.8 and later)");
    }
    String baseUrl = text(request, "baseUrl").replaceAll("/+$", "");
    long intervalMs = request.path("pollIntervalMs").asLong(0);
    if (intervalMs <= 0) {
      throw new IllegalArgumentException(
          "init needs a positive pollIntervalMs, not " + request.get("pollIntervalMs"));
    }
    if (request.hasNonNull("initTimeoutMs")) {
      // Not declared in OPTIONS: the SDK has no start-up timeout to pass it to.
      System.err.println("adapter: initTimeoutMs ignored: the Java SDK has no start-up timeout");
    }
    CoreClient.Spec spec =
        new CoreClient.Spec(
            text(request, "sdkKey"),
            sdkName,
            sdkVersion,
            baseUrl,
            recorder,
            null,
            request.path("assignmentCache").asBoolean(false),
            request.path("banditCache").asBoolean(false));
    long started = System.nanoTime();
    boolean wait = request.path("waitForInit").asBoolean(true);
    Online online = new Online(CoreClient.build(spec), lifecycle, intervalMs, wait);
    response.put("initialized", lifecycle.hasConfiguration(online.client));
    response.put("elapsedMs", (System.nanoTime() - started) / 1_000_000);
    return online;
  }

  private static String text(JsonNode request, String field) {
    JsonNode value = request.get(field);
    if (value == null || !value.isTextual()) {
      throw new IllegalArgumentException("init needs a string " + field + ", not " + value);
    }
    return value.textValue();
  }

  /** The rest of {@code buildAndInit}: the first fetch, then the poller (unless stopped since). */
  private void loadThenPoll(long intervalMs) {
    try {
      lifecycle.load(client);
    } catch (RuntimeException e) {
      // Graceful mode logs and swallows a failed fetch; anything else is worth a line.
      System.err.println("adapter: the first fetch raised: " + Json.describe(e));
    }
    synchronized (this) {
      if (!stopped) {
        lifecycle.startPolling(client, intervalMs, intervalMs / JITTER_RATIO);
      }
    }
  }

  BaseEppoClient client() {
    return client;
  }

  /**
   * Stops the poller ({@code stopPolling}: the core's Timer is cancelled; a fetch under way
   * finishes, none starts after it). A start still fetching on its own thread starts no poller
   * once its fetch returns.
   */
  synchronized void stop() {
    stopped = true;
    lifecycle.stopPolling(client);
  }
}
