package io.ironruntime;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The engine's one Jackson mapper: thread-safe once configured, and costly enough to build only once. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }
}
