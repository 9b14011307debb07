package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.provider.SseEvent;
import java.util.function.Consumer;

/**
 * OpenAI Responses events: each output part's text or refusal and each function call's arguments is a
 * streamed text, flushed as one more delta event right before its {@code .done} event. Events that
 * repeat a text whole ({@code .done}, {@code content_part}, {@code output_item}, {@code response.*})
 * are rewritten the same way, without counting its values twice. Events are numbered
 * ({@code sequence_number}); each added delta moves the numbers after it up by one, so the client
 * still sees 0, 1, 2, ... in order.
 */
final class ResponsesEvents {
    private final StreamTexts texts;
    private final PiiGuard guard;
    /** Delta events added so far. */
    private long added;
    /** The upstream's number of the event being handled (or the last one), -1 before the first. */
    private long upstreamSeq = -1;

    ResponsesEvents(StreamTexts texts, PiiGuard guard) {
        this.texts = texts;
        this.guard = guard;
    }

    /** Notes the number of an event about to be handled. */
    void numbered(ObjectNode o) {
        JsonNode n = o.get("sequence_number");
        if (n != null && n.canConvertToLong()) {
            upstreamSeq = n.asLong();
        }
    }

    /** Moves an event's number past the events added before it; true when it changed. */
    boolean renumber(ObjectNode o) {
        JsonNode n = o.get("sequence_number");
        if (added == 0 || n == null || !n.canConvertToLong()) {
            return false;
        }
        o.put("sequence_number", n.asLong() + added);
        return true;
    }

    /** The stream ended: anything added now comes after the last event. */
    void ended() {
        upstreamSeq++;
    }

    boolean event(ObjectNode o, String type, Consumer<SseEvent> out) {
        String at = o.path("output_index").asInt(0) + "." + o.path("content_index").asInt(0);
        switch (type) {
            case "response.output_text.delta" -> {
                return streamed(o, "o" + at, "delta", TextFields.Kind.TEXT, "output[" + at + "].text");
            }
            case "response.refusal.delta" -> {
                return streamed(o, "r" + at, "delta", TextFields.Kind.TEXT, "output[" + at + "].refusal");
            }
            case "response.function_call_arguments.delta" -> {
                return streamed(o, "f" + o.path("output_index").asInt(0), "delta", TextFields.Kind.JSON_SOURCE,
                        "output[" + o.path("output_index").asInt(0) + "].arguments");
            }
            case "response.output_text.done" -> {
                return done(o, "o" + at, "text", TextFields.Kind.TEXT, out);
            }
            case "response.refusal.done" -> {
                return done(o, "r" + at, "refusal", TextFields.Kind.TEXT, out);
            }
            case "response.reasoning_summary_text.delta" -> {
                String s = "s" + o.path("output_index").asInt(0) + "." + o.path("summary_index").asInt(0);
                return streamed(o, s, "delta", TextFields.Kind.TEXT, "output[" + o.path("output_index").asInt(0) + "].summary");
            }
            case "response.reasoning_summary_text.done" -> {
                return done(o, "s" + o.path("output_index").asInt(0) + "." + o.path("summary_index").asInt(0), "text",
                        TextFields.Kind.TEXT, out);
            }
            case "response.function_call_arguments.done" -> {
                return done(o, "f" + o.path("output_index").asInt(0), "arguments", TextFields.Kind.JSON_SOURCE, out);
            }
            case "response.content_part.added", "response.content_part.done", "response.reasoning_summary_part.added",
                    "response.reasoning_summary_part.done" -> {
                return o.get("part") instanceof ObjectNode part && TextFields.rewritePart(part, this::again);
            }
            case "response.output_item.added", "response.output_item.done" -> {
                return TextFields.rewriteItem(o.get("item"), this::again);
            }
            default -> {
                if (type.equals("response.completed") || type.equals("response.incomplete") || type.equals("response.failed")) {
                    texts.flushAll(out);
                }
                return TextFields.rewriteBody(o, this::again);
            }
        }
    }

    /** A delta event of a streamed text: its text replaced by what may be emitted now. */
    private boolean streamed(ObjectNode o, String key, String field, TextFields.Kind kind, String where) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) {
            return false;
        }
        ObjectNode template = o.deepCopy();
        o.put(field, texts.push(key, v.textValue(), kind, where, rest -> {
            ObjectNode e = template.deepCopy();
            e.put(field, rest);
            if (e.has("sequence_number")) {
                e.put("sequence_number", Math.max(upstreamSeq, 0) + added++); // it goes right before the current event
            }
            return SseEvent.of(e.path("type").asText(null), ResponsePii.write(e));
        }));
        return true;
    }

    /** The event that repeats a streamed text whole: flush the rest as one more delta, then rewrite the whole. */
    private boolean done(ObjectNode o, String key, String field, TextFields.Kind kind, Consumer<SseEvent> out) {
        texts.flush(key, out);
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) {
            return false;
        }
        String after = guard.redact(v.textValue(), kind, null);
        o.put(field, after);
        return true;
    }

    /** A text the client already got streamed, repeated whole: rewritten the same way, not audited again. */
    private String again(TextFields.FieldPath path, String text, TextFields.Kind kind) {
        return guard.redact(text, kind, null);
    }
}
