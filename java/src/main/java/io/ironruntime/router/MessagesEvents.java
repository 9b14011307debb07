package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.pii.Finding;
import io.ironruntime.provider.SseEvent;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Anthropic message events: each content block's text ({@code text_delta}) or tool input
 * ({@code input_json_delta}) is a streamed text, flushed as one more {@code content_block_delta} right
 * before its {@code content_block_stop}. Pings and thinking deltas pass untouched.
 */
final class MessagesEvents {
    private final StreamTexts texts;
    private final PiiGuard guard;
    private final Function<String, Consumer<Finding>> audit;

    MessagesEvents(StreamTexts texts, PiiGuard guard, Function<String, Consumer<Finding>> audit) {
        this.texts = texts;
        this.guard = guard;
        this.audit = audit;
    }

    boolean event(ObjectNode o, String type, Consumer<SseEvent> out) {
        int i = o.path("index").asInt(0);
        String key = "b" + i;
        switch (type) {
            case "content_block_start" -> {
                if (o.get("content_block") instanceof ObjectNode block) {
                    return TextFields.rewritePart(block,
                            (path, text, kind) -> guard.redact(text, kind, audit.apply("content[" + i + "]")));
                }
                return false;
            }
            case "content_block_delta" -> {
                if (!(o.get("delta") instanceof ObjectNode d)) {
                    return false;
                }
                String dt = d.path("type").asText("");
                if (dt.equals("text_delta") && d.get("text") != null && d.get("text").isTextual()) {
                    d.put("text", texts.push(key, d.get("text").textValue(), TextFields.Kind.TEXT, "content[" + i + "].text",
                            rest -> blockCarrier(i, "text_delta", "text", rest)));
                    return true;
                }
                if (dt.equals("input_json_delta") && d.get("partial_json") != null && d.get("partial_json").isTextual()) {
                    d.put("partial_json", texts.push(key, d.get("partial_json").textValue(), TextFields.Kind.JSON_SOURCE,
                            "content[" + i + "].input", rest -> blockCarrier(i, "input_json_delta", "partial_json", rest)));
                    return true;
                }
                return false;
            }
            case "content_block_stop" -> {
                texts.flush(key, out);
                return false;
            }
            case "message_start" -> {
                return TextFields.rewriteBody(o.path("message"),
                        (path, text, kind) -> guard.redact(text, kind, audit.apply(path.toString())));
            }
            default -> { // message_delta, message_stop
                texts.flushAll(out);
                return false;
            }
        }
    }

    private static SseEvent blockCarrier(int index, String deltaType, String field, String rest) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("type", "content_block_delta");
        e.put("index", index);
        ObjectNode d = e.putObject("delta");
        d.put("type", deltaType);
        d.put(field, rest);
        return SseEvent.of("content_block_delta", ResponsePii.write(e));
    }
}
