package ufc.adapter;

import cloud.eppo.BaseEppoClient;
import cloud.eppo.api.Attributes;
import cloud.eppo.api.BanditActions;
import cloud.eppo.api.BanditResult;
import cloud.eppo.api.Configuration;
import cloud.eppo.api.ContextAttributes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;

/**
 * The SDK side of the adapter: one {@link BaseEppoClient} per {@code configure}, loaded offline,
 * or per {@code init}, fetching from the harness's mock CDN ({@link Online}), and the typed calls,
 * bandit calls and bench loops run against the current one.
 *
 * <p>Offline loading: the core's client takes an initial configuration (a future of a {@link
 * Configuration} built from the flag and bandit bytes) and, with no poller started, never opens a
 * connection. When the core cannot build the configuration (it parses every flag and fails the
 * whole file on one it cannot read), the future fails, and the client does what the SDK does
 * after a failed initial load in its default graceful mode: it logs the error and serves every
 * flag from an empty configuration, that is, the caller's default.
 */
final class Adapter {
  static final String PACKAGE = "cloud.eppo:sdk-common-jvm";
  /**
   * What the core reports. No details API (3.9.0 has none), so neither {@code details} nor {@code
   * bandit-details}; no precomputation API either. {@code online} is added where the release
   * has the poller the server SDK starts (3.8 and later, see {@link Online}).
   */
  static final List<String> CAPABILITIES =
      List.of("assign", "events", "bandits", "bench", "obfuscated");

  private final String coreVersion = readCoreVersion();
  /** How the adapter names itself to the CDN and in the events' metaData. */
  static final String SDK_NAME = "ufc-harness-java";

  private Recorder recorder = new Recorder(false);
  private BaseEppoClient client;
  /** The client {@code init} built, while its poller may run. */
  private Online online;

  private static String readCoreVersion() {
    Properties properties = new Properties();
    try (InputStream in = Adapter.class.getResourceAsStream("/adapter.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      System.err.println("adapter: cannot read adapter.properties: " + e);
    }
    return properties.getProperty("core.version", "unknown");
  }

  void hello(JsonNode request, ObjectNode response) {
    JsonNode protocol = request.get("protocol");
    if (protocol == null || !protocol.isInt() || protocol.intValue() != Main.PROTOCOL) {
      throw new IllegalArgumentException(
          "this adapter speaks protocol " + Main.PROTOCOL + ", not " + protocol);
    }
    response.put("protocol", Main.PROTOCOL);
    ObjectNode sdk = response.putObject("sdk");
    sdk.put("name", "java");
    sdk.put("package", PACKAGE);
    sdk.put("version", coreVersion);
    ArrayNode capabilities = response.putArray("capabilities");
    CAPABILITIES.forEach(capabilities::add);
    if (Online.offered()) {
      capabilities.add("online");
      Online.describe(response.putObject("online"));
    }
  }

  private static byte[] source(JsonNode spec, String what) throws IOException {
    if (spec != null && spec.isObject() && spec.has("path")) {
      return Files.readAllBytes(Path.of(spec.get("path").asText()));
    }
    if (spec != null && spec.isObject() && spec.has("inline")) {
      return Json.MAPPER.writeValueAsBytes(spec.get("inline"));
    }
    throw new IllegalArgumentException(what + " must be {\"path\": FILE} or {\"inline\": OBJECT}");
  }

  void configure(JsonNode request) throws IOException {
    byte[] flags = source(request.get("flags"), "flags");
    JsonNode banditSpec = request.get("bandits");
    byte[] bandits = banditSpec == null || banditSpec.isNull() ? null : source(banditSpec, "bandits");
    // A clear error for a file that is not JSON at all beats the SDK's empty configuration.
    Json.MAPPER.readTree(flags);
    CompletableFuture<Configuration> initial = new CompletableFuture<>();
    try {
      // The constructor every release has (3.3 on); it reads the format, so a CLIENT file is
      // decoded as obfuscated.
      Configuration.Builder builder = new Configuration.Builder(flags);
      if (bandits != null) {
        builder.banditParameters(bandits);
      }
      initial.complete(builder.build());
    } catch (RuntimeException e) {
      System.err.println(
          "adapter: the SDK could not build the configuration; it serves defaults: "
              + Json.describe(e));
      initial.completeExceptionally(e);
    }
    stopClient();
    recorder = new Recorder(false);
    // Offline: a discard port, never fetched from (no load, no poller).
    client =
        CoreClient.build(
            new CoreClient.Spec(
                "offline-harness-key",
                SDK_NAME,
                coreVersion,
                "http://127.0.0.1:9",
                recorder,
                initial,
                false,
                false));
  }

  /** {@code init}: the online client against the mock CDN (see {@link Online}). */
  void init(JsonNode request, ObjectNode response) {
    stopClient();
    String logger = request.path("logger").asText("recording");
    if (!logger.equals("recording") && !logger.equals("throwing")) {
      throw new IllegalArgumentException(
          "logger must be \"recording\" or \"throwing\", not " + request.get("logger"));
    }
    recorder = new Recorder(logger.equals("throwing"));
    client = null;
    online = Online.start(request, SDK_NAME, coreVersion, recorder, response);
    client = online.client();
  }

  /** {@code drainEvents}: what the loggers received outside any case. */
  void drainEvents(ObjectNode response) {
    recorder.drain(response);
  }

  /**
   * {@code stopClient} (and before {@code configure}, {@code init}, {@code shutdown}): stop the
   * online client's poller; the client keeps serving what it holds.
   */
  void stopClient() {
    if (online != null) {
      online.stop();
      online = null;
    }
  }

  private BaseEppoClient client(String op) {
    if (client == null) {
      throw new IllegalStateException(op + " before configure or a successful init");
    }
    return client;
  }

  void evaluate(JsonNode request, ObjectNode response) {
    client("evaluate");
    JsonNode cases = request.get("cases");
    if (cases == null || !cases.isArray()) {
      throw new IllegalArgumentException("evaluate needs a cases array");
    }
    ArrayNode results = response.putArray("results");
    for (JsonNode c : cases) {
      ObjectNode result = results.addObject();
      result.set("caseId", c.get("caseId"));
      try {
        recorder.start();
        JsonNode value = evaluateCase(c);
        result.set("value", value);
        result.putNull("details");
        recorder.finish(result);
      } catch (RuntimeException e) {
        System.err.println("adapter: case " + c.get("caseId") + " raised: " + e);
        recorder.abandon();
        result.removeAll();
        result.set("caseId", c.get("caseId"));
        result.put("error", Json.describe(e));
      }
    }
  }

  private JsonNode evaluateCase(JsonNode c) {
    String kind = c.path("kind").asText();
    String flag = c.path("flag").asText();
    String subjectKey = c.path("subjectKey").asText();
    JsonNode defaultValue = c.get("defaultValue");
    if ("bandit".equals(kind)) {
      BanditResult r =
          client.getBanditAction(
              flag,
              subjectKey,
              context(c.get("subjectAttributes"), "subjectAttributes"),
              actions(c.get("actions")),
              text(defaultValue, "defaultValue"));
      ObjectNode value = Json.MAPPER.createObjectNode();
      value.put("variation", r.getVariation());
      value.put("action", r.getAction());
      return value;
    }
    if (!"flag".equals(kind)) {
      throw new IllegalArgumentException("unknown case kind " + c.get("kind"));
    }
    Attributes attributes = Json.attributes(c.get("subjectAttributes"), "subjectAttributes");
    return typedCall(c.path("variationType").asText(), defaultValue).call(flag, subjectKey, attributes);
  }

  /** One typed SDK call with its default bound, as the bench loop and evaluate both use it. */
  interface TypedCall {
    JsonNode call(String flag, String subjectKey, Attributes attributes);
  }

  private TypedCall typedCall(String variationType, JsonNode defaultValue) {
    BaseEppoClient sdk = client;
    switch (variationType) {
      case "STRING":
        {
          String d = text(defaultValue, "defaultValue");
          return (f, s, a) -> Json.MAPPER.getNodeFactory().textNode(sdk.getStringAssignment(f, s, a, d));
        }
      case "INTEGER":
        {
          // The core's integer method takes and returns a Java int.
          if (defaultValue == null || !defaultValue.canConvertToInt() || !defaultValue.isIntegralNumber()) {
            throw new IllegalArgumentException(
                "defaultValue " + defaultValue + " is not a Java int, which getIntegerAssignment takes");
          }
          int d = defaultValue.intValue();
          return (f, s, a) -> Json.MAPPER.getNodeFactory().numberNode(sdk.getIntegerAssignment(f, s, a, d));
        }
      case "NUMERIC":
        {
          if (defaultValue == null || !defaultValue.isNumber()) {
            throw new IllegalArgumentException("defaultValue " + defaultValue + " is not a number");
          }
          double d = defaultValue.doubleValue();
          return (f, s, a) -> Json.MAPPER.getNodeFactory().numberNode(sdk.getDoubleAssignment(f, s, a, d));
        }
      case "BOOLEAN":
        {
          if (defaultValue == null || !defaultValue.isBoolean()) {
            throw new IllegalArgumentException("defaultValue " + defaultValue + " is not a bool");
          }
          boolean d = defaultValue.booleanValue();
          return (f, s, a) -> Json.MAPPER.getNodeFactory().booleanNode(sdk.getBooleanAssignment(f, s, a, d));
        }
      case "JSON":
        {
          JsonNode d = defaultValue == null ? Json.MAPPER.nullNode() : defaultValue;
          return (f, s, a) -> sdk.getJSONAssignment(f, s, a, d);
        }
      default:
        throw new IllegalArgumentException("unknown variationType " + variationType);
    }
  }

  private static String text(JsonNode node, String what) {
    if (node == null || !node.isTextual()) {
      throw new IllegalArgumentException(what + " " + node + " is not a string");
    }
    return node.textValue();
  }

  /** {numericAttributes, categoricalAttributes} as the core's bandit context. */
  private static ContextAttributes context(JsonNode node, String what) {
    JsonNode n = node == null ? Json.MAPPER.createObjectNode() : node;
    return new ContextAttributes(
        Json.attributes(n.get("numericAttributes"), what + ".numericAttributes"),
        Json.attributes(n.get("categoricalAttributes"), what + ".categoricalAttributes"));
  }

  private static BanditActions actions(JsonNode node) {
    BanditActions actions = new BanditActions();
    if (node == null || node.isNull()) {
      return actions;
    }
    for (JsonNode action : node) {
      String key = text(action.get("actionKey"), "actionKey");
      actions.put(key, context(action, "action " + key));
    }
    return actions;
  }

  void bench(JsonNode request, ObjectNode response) {
    BaseEppoClient sdk = client("bench");
    JsonNode subjects = request.get("subjects");
    if (subjects == null || !subjects.isArray() || subjects.size() == 0) {
      throw new IllegalArgumentException("bench needs at least one subject");
    }
    long n = request.path("iterations").asLong();
    String flag = request.path("flag").asText();
    String mode = request.path("mode").asText();
    int m = subjects.size();
    String[] keys = new String[m];
    for (int i = 0; i < m; i++) {
      keys[i] = subjects.get(i).path("subjectKey").asText();
    }
    recorder.mute();
    long elapsed;
    if ("bandit".equals(mode)) {
      ContextAttributes[] contexts = new ContextAttributes[m];
      for (int i = 0; i < m; i++) {
        contexts[i] = context(subjects.get(i).get("subjectAttributes"), "subjectAttributes");
      }
      BanditActions actions = actions(request.get("actions"));
      String d = text(request.get("defaultValue"), "defaultValue");
      long start = System.nanoTime();
      for (long i = 0; i < n; i++) {
        int k = (int) (i % m);
        sdk.getBanditAction(flag, keys[k], contexts[k], actions, d);
      }
      elapsed = System.nanoTime() - start;
    } else if ("assign".equals(mode)) {
      Attributes[] attributes = new Attributes[m];
      for (int i = 0; i < m; i++) {
        attributes[i] = Json.attributes(subjects.get(i).get("subjectAttributes"), "subjectAttributes");
      }
      TypedCall call = typedCall(request.path("variationType").asText(), request.get("defaultValue"));
      long start = System.nanoTime();
      for (long i = 0; i < n; i++) {
        int k = (int) (i % m);
        call.call(flag, keys[k], attributes[k]);
      }
      elapsed = System.nanoTime() - start;
    } else if ("details".equals(mode)) {
      throw new IllegalArgumentException("sdk-common-jvm " + coreVersion + " has no details call");
    } else {
      throw new IllegalArgumentException("unknown bench mode " + request.get("mode"));
    }
    response.put("iterations", n);
    response.put("elapsedNs", elapsed);
  }
}
