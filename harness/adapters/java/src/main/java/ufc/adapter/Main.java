package ufc.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The UFC harness adapter for Eppo's JVM core ({@code cloud.eppo:sdk-common-jvm}).
 *
 * <p>Speaks protocol v1 (docs/protocol.md): one JSON request per line on stdin, one JSON response
 * per line on stdout. Stdout carries nothing else: {@code System.out} is pointed at stderr before
 * the SDK is touched, and the SDK's slf4j logging goes to stderr through slf4j-simple.
 *
 * <p>This class owns the protocol loop only; {@link Adapter} holds the SDK calls.
 */
public final class Main {
  static final int PROTOCOL = 1;

  private Main() {}

  public static void main(String[] args) throws IOException {
    // Keep a private handle on file descriptor 1 and send every stray print to stderr.
    PrintStream protocolOut =
        new PrintStream(
            new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8.name());
    System.setOut(System.err);

    ObjectMapper mapper = Json.MAPPER;
    Adapter adapter = new Adapter();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode id = null;
      ObjectNode response;
      boolean stop = false;
      try {
        JsonNode request = mapper.readTree(line);
        if (request == null || !request.isObject()) {
          throw new IllegalArgumentException("request is not a JSON object");
        }
        id = request.get("id");
        String op = request.path("op").asText("");
        response = mapper.createObjectNode();
        response.set("id", id);
        response.put("ok", true);
        switch (op) {
          case "hello":
            adapter.hello(request, response);
            break;
          case "configure":
            adapter.configure(request);
            break;
          case "evaluate":
            adapter.evaluate(request, response);
            break;
          case "bench":
            adapter.bench(request, response);
            break;
          case "init":
            adapter.init(request, response);
            break;
          case "drainEvents":
            adapter.drainEvents(response);
            break;
          case "stopClient":
            adapter.stopClient();
            break;
          case "shutdown":
            adapter.stopClient();
            stop = true;
            break;
          default:
            throw new IllegalArgumentException("unknown op " + mapper.writeValueAsString(op));
        }
      } catch (Exception e) {
        System.err.println("adapter: request failed: " + e);
        e.printStackTrace(System.err);
        response = mapper.createObjectNode();
        response.set("id", id);
        response.put("ok", false);
        response.put("error", Json.describe(e));
      }
      protocolOut.print(mapper.writeValueAsString(response));
      protocolOut.print('\n');
      protocolOut.flush();
      if (stop) {
        break;
      }
    }
    // The SDK may hold daemon or pooled threads; leave no doubt.
    System.exit(0);
  }
}
