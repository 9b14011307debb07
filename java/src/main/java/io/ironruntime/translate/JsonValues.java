package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

/** Reading the other provider's JSON leniently: a field that is not a string never throws. */
final class JsonValues {
    private JsonValues() {
    }

    /** The string, or "" when {@code node} is missing or not a string. */
    static String text(JsonNode node) {
        return node.isTextual() ? node.asText() : "";
    }

    /** The string node itself, or JSON null when {@code node} is missing or not a string. */
    static JsonNode textOrNull(JsonNode node) {
        return node.isTextual() ? node : NullNode.getInstance();
    }
}
