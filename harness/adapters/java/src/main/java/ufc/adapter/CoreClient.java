package ufc.adapter;

import cloud.eppo.BaseEppoClient;
import cloud.eppo.api.Configuration;
import cloud.eppo.logging.AssignmentLogger;
import cloud.eppo.logging.BanditLogger;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The core's {@link BaseEppoClient}, built the way the server SDK's subclass ({@code EppoClient})
 * builds it, and the protected lifecycle methods that subclass calls.
 *
 * <p>Everything here goes through reflection because the same sources build against every core
 * release from 3.3 on: the protected constructor changed (3.3: eleven parameters; 3.5: the two
 * assignment caches added; 3.8: an API base URL after the host), the cache classes arrived in
 * 3.5, and {@code startPolling}, {@code stopPolling} and the public {@code getConfiguration}
 * in 3.8. Naming any of them directly would refuse the older releases at compile time.
 */
final class CoreClient {
  private static final String CACHE_TYPE = "cloud.eppo.api.IAssignmentCache";

  private CoreClient() {}

  /**
   * What a client is built with. {@code baseUrl} is the CDN's origin (the core appends {@code
   * /api} to a host, or takes {@code baseUrl + "/api"} as its API base URL); the caches are the
   * server SDK's own defaults when on ({@code EppoClient.Builder}: an LRU assignment cache of 100
   * entries, an expiring bandit cache of 10 minutes), none when off.
   */
  record Spec(
      String sdkKey,
      String sdkName,
      String sdkVersion,
      String baseUrl,
      Recorder recorder,
      CompletableFuture<Configuration> initialConfiguration,
      boolean assignmentCache,
      boolean banditCache) {}

  /**
   * The protected constructor with the most parameters, each filled by its type, in order: the
   * key, the SDK name and version, then the host and the API base URL where the release has
   * them; both loggers; no configuration store; graceful mode (the server SDK's default), not
   * obfuscated unless the file says so, bandits supported; the initial configuration (none
   * online); and the two caches as asked.
   */
  static BaseEppoClient build(Spec spec) {
    Constructor<?> constructor =
        Arrays.stream(BaseEppoClient.class.getDeclaredConstructors())
            .filter(c -> Modifier.isProtected(c.getModifiers()))
            .max(Comparator.comparingInt(Constructor::getParameterCount))
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "missing API: BaseEppoClient has no protected constructor"));
    Class<?>[] types = constructor.getParameterTypes();
    long stringCount = Arrays.stream(types).filter(String.class::equals).count();
    List<String> strings = new ArrayList<>(List.of(spec.sdkKey, spec.sdkName, spec.sdkVersion));
    if (stringCount >= 5) {
      strings.add(null); // the deprecated host
      strings.add(spec.baseUrl + "/api"); // the API base URL
    } else {
      strings.add(spec.baseUrl); // the host, to which the core appends /api
    }
    List<Boolean> flags = List.of(true, false, true);
    List<Object> caches = new ArrayList<>();
    caches.add(spec.assignmentCache ? assignmentCache() : null);
    caches.add(spec.banditCache ? banditCache() : null);
    int nextString = 0;
    int nextFlag = 0;
    int nextCache = 0;
    Object[] args = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      Class<?> type = types[i];
      if (type == String.class && nextString < strings.size()) {
        args[i] = strings.get(nextString++);
      } else if (type == boolean.class && nextFlag < flags.size()) {
        args[i] = flags.get(nextFlag++);
      } else if (type == AssignmentLogger.class || type == BanditLogger.class) {
        args[i] = spec.recorder;
      } else if (type == CompletableFuture.class) {
        args[i] = spec.initialConfiguration;
      } else if (type.getName().equals(CACHE_TYPE) && nextCache < caches.size()) {
        args[i] = caches.get(nextCache++);
      } else if (type.isPrimitive() || type == String.class) {
        throw new IllegalStateException("missing API: BaseEppoClient" + Arrays.toString(types));
      } // else the configuration store: none, so the core keeps its own in memory
    }
    if (nextCache == 0 && (spec.assignmentCache || spec.banditCache)) {
      throw new IllegalArgumentException("this core release has no assignment or bandit cache");
    }
    try {
      constructor.setAccessible(true);
      return (BaseEppoClient) constructor.newInstance(args);
    } catch (InvocationTargetException e) {
      throw unwrap(e);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot build the core's client: " + e, e);
    }
  }

  private static Object assignmentCache() {
    return newInstance(
        "cloud.eppo.cache.LRUInMemoryAssignmentCache", new Class<?>[] {int.class}, 100);
  }

  private static Object banditCache() {
    return newInstance(
        "cloud.eppo.cache.ExpiringInMemoryAssignmentCache",
        new Class<?>[] {int.class, TimeUnit.class},
        10,
        TimeUnit.MINUTES);
  }

  private static Object newInstance(String className, Class<?>[] types, Object... args) {
    try {
      return Class.forName(className).getConstructor(types).newInstance(args);
    } catch (InvocationTargetException e) {
      throw unwrap(e);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("missing API: " + className + ": " + e, e);
    }
  }

  /**
   * The lifecycle methods the server SDK's {@code EppoClient} calls on its base class: the
   * synchronous fetch ({@code loadConfiguration}), the poller ({@code startPolling(interval,
   * jitter)}, {@code stopPolling}) and what the client holds ({@code getConfiguration}). Null when
   * the release lacks any of them (before 3.8), which the adapter reports by not declaring
   * {@code online}.
   */
  record Lifecycle(Method load, Method startPolling, Method stopPolling, Method configuration) {
    static final Lifecycle OF_THIS_RELEASE = find();

    private static Lifecycle find() {
      try {
        return new Lifecycle(
            accessible("loadConfiguration"),
            accessible("startPolling", long.class, long.class),
            accessible("stopPolling"),
            accessible("getConfiguration"));
      } catch (NoSuchMethodException e) {
        System.err.println("adapter: no online lifecycle in this core release: " + e.getMessage());
        return null;
      }
    }

    private static Method accessible(String name, Class<?>... types) throws NoSuchMethodException {
      Method m = BaseEppoClient.class.getDeclaredMethod(name, types);
      m.setAccessible(true);
      return m;
    }

    void load(BaseEppoClient client) {
      invoke(load, client);
    }

    void startPolling(BaseEppoClient client, long intervalMs, long jitterMs) {
      invoke(startPolling, client, intervalMs, jitterMs);
    }

    void stopPolling(BaseEppoClient client) {
      invoke(stopPolling, client);
    }

    /** Whether the client holds a configuration with any flag (the core's own {@code isEmpty}). */
    boolean hasConfiguration(BaseEppoClient client) {
      Configuration c = (Configuration) invoke(configuration, client);
      return c != null && !c.isEmpty();
    }

    private static Object invoke(Method m, BaseEppoClient client, Object... args) {
      try {
        return m.invoke(client, args);
      } catch (InvocationTargetException e) {
        throw unwrap(e);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot call BaseEppoClient." + m.getName() + ": " + e, e);
      }
    }
  }

  private static RuntimeException unwrap(InvocationTargetException e) {
    Throwable cause = e.getCause();
    return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
  }
}
