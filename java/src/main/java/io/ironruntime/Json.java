package io.ironruntime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** The engine's one Jackson mapper: thread-safe once configured, and costly enough to build only once. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    /** The parsed tree, or null when the text is not JSON (provider bodies and events are read leniently). */
    public static JsonNode readOrNull(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            return null;
        }
    }

    /** The parsed tree, or null when the bytes are not JSON. */
    public static JsonNode readOrNull(byte[] json) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            return null;
        }
    }
}
