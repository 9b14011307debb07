package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.provider.ResponseText;
import io.ironruntime.provider.SseEvent;
import io.ironruntime.provider.UsageReader;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * Reads one metered response on its way to the client: the usage the provider reports and the text
 * the model produced (for charging a response that ends without usage). Each event is parsed once.
 *
 * <p>When the router itself asked an OpenAI stream for usage ({@code stream_options.include_usage}),
 * it also gives the client back the stream it asked for: the usage-only chunk is dropped and the
 * {@code "usage":null} member the provider adds to every other chunk is removed.
 */
final class ResponseMeter {
    private static final Pattern NULL_USAGE = Pattern.compile(",\\s*\"usage\"\\s*:\\s*null|\"usage\"\\s*:\\s*null\\s*,?");

    private final UsageReader usage = new UsageReader();
    private final ResponseText text = new ResponseText();
    private final boolean hideUsage;

    ResponseMeter(boolean hideUsage) {
        this.hideUsage = hideUsage;
    }

    /** Reads an event; returns what the client gets instead (the same event, a rewrite, or null to drop it). */
    SseEvent onEvent(SseEvent event) {
        String data = event.data();
        if (data == null || data.equals("[DONE]")) {
            return event;
        }
        JsonNode root = parse(data);
        usage.acceptEvent(root);
        text.acceptEvent(root);
        if (!hideUsage || root == null) {
            return event;
        }
        JsonNode choices = root.get("choices");
        if (choices != null && choices.isArray() && choices.isEmpty() && root.hasNonNull("usage")) {
            return null;
        }
        return data.contains("\"usage\"") ? SseEvent.of(event.event(), withoutNullUsage(data)) : event;
    }

    void onBody(byte[] json) {
        JsonNode root = parse(json);
        usage.acceptBody(root);
        text.acceptBody(root);
    }

    UsageReader usage() {
        return usage;
    }

    String text() {
        return text.text();
    }

    /** Removes {@code "usage": null} members; a string value cannot match, its quotes would be escaped. */
    static String withoutNullUsage(String data) {
        return NULL_USAGE.matcher(data).replaceAll("");
    }

    private static JsonNode parse(String data) {
        try {
            return Json.MAPPER.readTree(data);
        } catch (IOException e) {
            return null;
        }
    }

    private static JsonNode parse(byte[] data) {
        try {
            return Json.MAPPER.readTree(data);
        } catch (IOException e) {
            return null;
        }
    }
}
