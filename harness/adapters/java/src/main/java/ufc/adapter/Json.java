package ufc.adapter;

import cloud.eppo.api.Attributes;
import cloud.eppo.api.EppoValue;
import cloud.eppo.logging.Assignment;
import cloud.eppo.logging.BanditAssignment;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Conversions between the protocol's JSON and the SDK's types: attribute maps into {@link
 * Attributes}, and the objects the SDK hands its loggers back into JSON, field by field as the SDK
 * built them (getter names as keys).
 */
final class Json {
  /**
   * Jackson writes non-finite doubles as the strings "NaN", "Infinity" and "-Infinity" by default,
   * which is what the protocol asks for.
   */
  static final ObjectMapper MAPPER = new ObjectMapper();

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Json() {}

  /** An exception as one line: its class and message, and its cause's. */
  static String describe(Throwable e) {
    StringBuilder text = new StringBuilder(e.getClass().getName());
    if (e.getMessage() != null) {
      text.append(": ").append(e.getMessage());
    }
    Throwable cause = e.getCause();
    if (cause != null && cause != e) {
      text.append(" (caused by ").append(describe(cause)).append(')');
    }
    return text.toString();
  }

  /**
   * A JSON object of attributes as the SDK's {@link Attributes}: strings, numbers and bools as
   * the matching {@link EppoValue}, null as the null value, an array of strings as a string list.
   * Anything else has no {@link EppoValue} form, so a Java caller could not pass it.
   */
  static Attributes attributes(JsonNode node, String what) {
    Attributes attributes = new Attributes();
    if (node == null || node.isNull() || node.isMissingNode()) {
      return attributes;
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException(what + " must be a JSON object, not " + node);
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      attributes.put(entry.getKey(), value(entry.getValue(), what + "." + entry.getKey()));
    }
    return attributes;
  }

  private static EppoValue value(JsonNode node, String what) {
    if (node.isNull()) {
      return EppoValue.nullValue();
    } else if (node.isBoolean()) {
      return EppoValue.valueOf(node.booleanValue());
    } else if (node.isNumber()) {
      return EppoValue.valueOf(node.doubleValue());
    } else if (node.isTextual()) {
      return EppoValue.valueOf(node.textValue());
    } else if (node.isArray()) {
      List<String> strings = new ArrayList<>();
      for (JsonNode element : node) {
        if (!element.isTextual()) {
          throw new IllegalArgumentException(
              what + ": an EppoValue list holds strings only, not " + element);
        }
        strings.add(element.textValue());
      }
      return EppoValue.valueOf(strings);
    }
    throw new IllegalArgumentException(what + " has no EppoValue form: " + node);
  }

  /** An {@link EppoValue} as the JSON value it holds. */
  static JsonNode json(EppoValue value) {
    if (value == null || value.isNull()) {
      return NODES.nullNode();
    } else if (value.isBoolean()) {
      return NODES.booleanNode(value.booleanValue());
    } else if (value.isNumeric()) {
      return NODES.numberNode(value.doubleValue());
    } else if (value.isString()) {
      return NODES.textNode(value.stringValue());
    } else if (value.isStringArray()) {
      ArrayNode array = NODES.arrayNode();
      value.stringArrayValue().forEach(array::add);
      return array;
    }
    return NODES.textNode(value.toString());
  }

  /** Attributes as a JSON object, keys sorted (the SDK's maps are unordered). */
  static JsonNode json(Map<String, EppoValue> attributes) {
    if (attributes == null) {
      return NODES.nullNode();
    }
    ObjectNode object = NODES.objectNode();
    new TreeMap<>(attributes).forEach((key, value) -> object.set(key, json(value)));
    return object;
  }

  private static JsonNode strings(Map<String, String> map) {
    if (map == null) {
      return NODES.nullNode();
    }
    ObjectNode object = NODES.objectNode();
    new TreeMap<>(map).forEach(object::put);
    return object;
  }

  private static JsonNode timestamp(Date date) {
    return date == null ? NODES.nullNode() : NODES.textNode(Instant.ofEpochMilli(date.getTime()).toString());
  }

  private static JsonNode number(Double number) {
    return number == null ? NODES.nullNode() : NODES.numberNode(number);
  }

  /**
   * An assignment event: every field of the SDK's {@link Assignment}. The split's extra logging
   * stays in its own {@code extraLogging} map, as the SDK keeps it.
   */
  static ObjectNode json(Assignment event) {
    ObjectNode object = NODES.objectNode();
    object.set("timestamp", timestamp(event.getTimestamp()));
    object.put("experiment", event.getExperiment());
    object.put("featureFlag", event.getFeatureFlag());
    object.put("allocation", event.getAllocation());
    object.put("variation", event.getVariation());
    object.put("subject", event.getSubject());
    object.set("subjectAttributes", json(event.getSubjectAttributes()));
    object.set("extraLogging", strings(event.getExtraLogging()));
    object.set("metaData", strings(event.getMetaData()));
    return object;
  }

  /** A bandit event: every field of the SDK's {@link BanditAssignment}, under its getter names. */
  static ObjectNode json(BanditAssignment event) {
    ObjectNode object = NODES.objectNode();
    object.set("timestamp", timestamp(event.getTimestamp()));
    object.put("featureFlag", event.getFeatureFlag());
    object.put("bandit", event.getBandit());
    object.put("subject", event.getSubject());
    object.put("action", event.getAction());
    object.set("actionProbability", number(event.getActionProbability()));
    object.set("optimalityGap", number(event.getOptimalityGap()));
    object.put("modelVersion", event.getModelVersion());
    object.set("subjectNumericAttributes", json(event.getSubjectNumericAttributes()));
    object.set("subjectCategoricalAttributes", json(event.getSubjectCategoricalAttributes()));
    object.set("actionNumericAttributes", json(event.getActionNumericAttributes()));
    object.set("actionCategoricalAttributes", json(event.getActionCategoricalAttributes()));
    object.set("metaData", strings(event.getMetaData()));
    return object;
  }
}
