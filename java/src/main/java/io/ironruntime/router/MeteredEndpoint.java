package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The provider endpoints a request is charged for, with how each bounds its output. Free endpoints
 * (token counting, model lists, retrieving stored objects) are not metered.
 */
enum MeteredEndpoint {
    CHAT("/v1/chat/completions", "max_completion_tokens", true),
    COMPLETIONS("/v1/completions", "max_tokens", true),
    RESPONSES("/v1/responses", "max_output_tokens", false),
    MESSAGES("/v1/messages", "max_tokens", false),
    EMBEDDINGS("/v1/embeddings", null, false),
    /** Any other POST that names a model (images, audio, ...): priced by model, its output not bounded. */
    OTHER(null, null, false);

    private final String path;
    /** The request field that bounds output, or null when the endpoint produces no tokens to bound. */
    final String boundField;
    /** True when a stream reports usage only if the client asks for it ({@code stream_options}). */
    final boolean usageOnRequest;

    MeteredEndpoint(String path, String boundField, boolean usageOnRequest) {
        this.path = path;
        this.boundField = boundField;
        this.usageOnRequest = usageOnRequest;
    }

    boolean producesOutput() {
        return boundField != null;
    }

    /** True where {@code n} asks for several completions, each billed up to the output bound. */
    boolean hasChoices() {
        return this == CHAT || this == COMPLETIONS;
    }

    /** True for the endpoints that cannot be served without a model. */
    boolean needsModel() {
        return this != OTHER;
    }

    /** The metered endpoint of a request, or null when it is not charged. */
    static MeteredEndpoint of(String method, String upstreamPath, JsonNode json) {
        if (!"POST".equalsIgnoreCase(method) || json == null || !json.isObject()) {
            return null;
        }
        int q = upstreamPath.indexOf('?');
        String path = q < 0 ? upstreamPath : upstreamPath.substring(0, q);
        while (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.endsWith("/count_tokens") || path.endsWith("/input_tokens")) {
            return null; // token counting is free
        }
        for (MeteredEndpoint e : values()) {
            if (path.equals(e.path)) {
                return e;
            }
        }
        return json.hasNonNull("model") ? OTHER : null;
    }
}
