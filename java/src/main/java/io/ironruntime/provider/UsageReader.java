package io.ironruntime.provider;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.cost.Usage;

/**
 * Reads the token usage a provider reports, from a whole JSON body or from stream events, into a
 * {@link Usage} split by billing kind. One instance per response; feed it every event (or the body)
 * and ask {@link #usage()} at the end. Pure and not thread-safe.
 *
 * <ul>
 * <li>OpenAI Chat Completions: {@code usage.prompt_tokens} (of which
 * {@code prompt_tokens_details.cached_tokens} were cache reads) and {@code completion_tokens}; in a
 * stream, the final chunk with empty {@code choices}.</li>
 * <li>OpenAI Responses: {@code usage.input_tokens} (with {@code input_tokens_details.cached_tokens}) and
 * {@code output_tokens}; in a stream, the {@code response.completed} (or {@code .incomplete}) event.</li>
 * <li>Anthropic Messages: {@code usage.input_tokens}, {@code cache_read_input_tokens},
 * {@code cache_creation_input_tokens}, {@code output_tokens}; in a stream, {@code message_start}
 * carries the input side and {@code message_delta} the cumulative output (and, in newer API versions,
 * updated input counts).</li>
 * </ul>
 */
public final class UsageReader {
    private long input;
    private long cacheRead;
    private long cacheWrite;
    /** Of the cache writes, those with Anthropic's 1-hour lifetime (its usage.cache_creation breakdown). */
    private long cacheWrite1h;
    private String serviceTier;
    private long output;
    private boolean seen;

    /** A whole JSON response body. */
    public void acceptBody(byte[] json) {
        acceptBody(Json.readOrNull(json));
    }

    /** A whole JSON response body, already parsed. */
    public void acceptBody(JsonNode root) {
        if (root != null && root.isObject()) {
            tier(root);
            read(root.get("usage"));
        }
    }

    /** One SSE event of a stream. */
    public void acceptEvent(SseEvent event) {
        if (event.data() == null || event.data().equals("[DONE]")) {
            return;
        }
        acceptEvent(Json.readOrNull(event.data()));
    }

    /** One stream event's data, already parsed (null or not an object: ignored). */
    public void acceptEvent(JsonNode root) {
        if (root == null || !root.isObject()) {
            return;
        }
        String type = root.path("type").asText("");
        switch (type) {
            case "message_start" -> read(root.path("message").get("usage"));
            case "message_delta" -> read(root.get("usage"));
            case "response.completed", "response.incomplete", "response.failed" -> {
                tier(root.get("response"));
                read(root.path("response").get("usage"));
            }
            default -> { // OpenAI chat chunks carry no type; the last one has usage
                if (type.isEmpty()) {
                    tier(root);
                }
                read(root.get("usage"));
            }
        }
    }

    /** True once any usage was reported. */
    public boolean hasUsage() {
        return seen;
    }

    public Usage usage() {
        return new Usage(input, cacheRead, cacheWrite, Math.min(cacheWrite1h, cacheWrite), output);
    }

    /** The OpenAI service tier the response says it was processed in ({@code default}, {@code priority}, {@code flex}), or null. */
    public String serviceTier() {
        return serviceTier;
    }

    private void tier(JsonNode holder) {
        JsonNode t = holder == null ? null : holder.get("service_tier");
        if (t != null && t.isTextual()) {
            serviceTier = t.asText();
        }
    }

    private void read(JsonNode usage) {
        if (usage == null || !usage.isObject()) {
            return;
        }
        if (usage.has("prompt_tokens") || usage.has("completion_tokens")) { // OpenAI Chat Completions
            long cached = count(usage.path("prompt_tokens_details").get("cached_tokens"));
            long prompt = count(usage.get("prompt_tokens"));
            set(Math.max(prompt - cached, 0), cached, 0, count(usage.get("completion_tokens")));
        } else if (usage.has("input_tokens_details")) { // OpenAI Responses
            long cached = count(usage.path("input_tokens_details").get("cached_tokens"));
            set(Math.max(count(usage.get("input_tokens")) - cached, 0), cached, 0, count(usage.get("output_tokens")));
        } else { // Anthropic: fields present in this event update what earlier events said
            seen = true;
            input = usage.has("input_tokens") ? count(usage.get("input_tokens")) : input;
            cacheRead = usage.has("cache_read_input_tokens") ? count(usage.get("cache_read_input_tokens")) : cacheRead;
            cacheWrite = usage.has("cache_creation_input_tokens") ? count(usage.get("cache_creation_input_tokens")) : cacheWrite;
            JsonNode byTtl = usage.get("cache_creation");
            if (byTtl != null && byTtl.isObject()) {
                cacheWrite1h = count(byTtl.get("ephemeral_1h_input_tokens"));
            }
            output = usage.has("output_tokens") ? count(usage.get("output_tokens")) : output;
        }
    }

    private void set(long in, long read, long write, long out) {
        seen = true;
        input = in;
        cacheRead = read;
        cacheWrite = write;
        output = out;
    }

    private static long count(JsonNode n) {
        return n != null && n.canConvertToLong() && n.asLong() > 0 ? n.asLong() : 0;
    }


}
