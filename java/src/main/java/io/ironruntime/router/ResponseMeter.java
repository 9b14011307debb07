package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.provider.ResponseText;
import io.ironruntime.provider.SseEvent;
import io.ironruntime.provider.UsageReader;
import java.util.Set;
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
    private static final Pattern NULL_USAGE = Pattern.compile(
            ",\\s*\"usage\"\\s*:\\s*null|(?<=\\{)\\s*\"usage\"\\s*:\\s*null\\s*,?");

    private static final Set<String> END_EVENTS = Set.of("message_stop", "response.completed",
            "response.incomplete", "response.failed");

    private final UsageReader usage = new UsageReader();
    private final ResponseText text = new ResponseText();
    private final boolean hideUsage;
    private boolean sawEnd;
    /** The parsed data of the event read last (null when it had none or was not JSON). */
    private JsonNode lastParsed;

    ResponseMeter(boolean hideUsage) {
        this.hideUsage = hideUsage;
    }

    /** Reads an event; returns what the client gets instead (the same event, a rewrite, or null to drop it). */
    SseEvent onEvent(SseEvent event) {
        lastParsed = null;
        String data = event.data();
        if (data == null) {
            return event;
        }
        if (data.equals("[DONE]")) {
            sawEnd = true;
            return event;
        }
        JsonNode root = Json.readOrNull(data);
        lastParsed = root;
        if (root != null && END_EVENTS.contains(root.path("type").asText(""))) {
            sawEnd = true;
        }
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

    /**
     * The tree of the event read last, for a reader after this one (the PII rewriter) to use instead of
     * parsing it again. Meaningful only when the event was forwarded unchanged. Nothing here keeps
     * references into it, so the reader may change it.
     */
    JsonNode lastParsed() {
        return lastParsed;
    }

    void onBody(byte[] json) {
        JsonNode root = Json.readOrNull(json);
        usage.acceptBody(root);
        text.acceptBody(root);
    }

    /**
     * True once the stream's own last event went by ({@code [DONE]}, {@code message_stop},
     * {@code response.completed}): a client that hangs up after it has had the whole response.
     */
    boolean sawEnd() {
        return sawEnd;
    }

    UsageReader usage() {
        return usage;
    }

    String text() {
        return text.text();
    }

    /**
     * Removes {@code "usage": null} members. A member starts after a comma or an opening brace, which
     * no string (value or name) can put right before an unescaped quote, so text inside strings is safe.
     */
    static String withoutNullUsage(String data) {
        return NULL_USAGE.matcher(data).replaceAll("");
    }


}
