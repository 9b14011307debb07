package io.ironruntime.router;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.pii.Finding;
import io.ironruntime.pii.JsonTextStream;
import io.ironruntime.pii.StreamRedactor;
import io.ironruntime.pii.TextStream;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.SseEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Scans and rewrites one response on its way to the client. A whole JSON body is rewritten at once.
 * A stream is rewritten event by event: each streamed text (a chat choice's content, an Anthropic
 * content block, a Responses output part, each tool call's arguments) has its own redactor that holds
 * back only the tail that could still grow into a value. What is held is flushed where that text
 * ends (finish reason, block stop, {@code .done} event, end of stream) as an extra delta event right
 * before the event that ends it. Events that repeat the whole text ({@code .done}, {@code response.completed})
 * are rewritten the same way, without counting the values twice.
 *
 * <p>In block mode a detection throws {@link Refused}; any other failure throws too, and the
 * exchange ends the response with an error rather than let text through unchecked. Not thread-safe.
 */
final class ResponsePii {
    private final PiiGuard guard;
    private final String requestId;
    private final Consumer<Finding> noAudit = f -> { };
    /** Open streamed texts by key, in the order they opened. */
    private final Map<String, Open> open = new LinkedHashMap<>();
    /**
     * Responses events are numbered ({@code sequence_number}); every delta event the router adds moves
     * the numbers of the events after it up by one, so the client still sees 0, 1, 2, ... in order.
     */
    private long added;
    /** The upstream's number of the event being handled (or the last one), -1 before the first. */
    private long upstreamSeq = -1;

    /** One streamed text: its redactor and how to carry a flushed rest to the client. */
    private record Open(TextStream stream, Function<String, SseEvent> carrier) {
    }

    /** The response must not reach the client (block mode, or the scan itself failed). */
    static final class Refused extends RuntimeException {
        final ErrorReply reply;
        final boolean blocked;

        Refused(ErrorReply reply, boolean blocked) {
            super(reply.message(), null, false, false);
            this.reply = reply;
            this.blocked = blocked;
        }
    }

    ResponsePii(PiiGuard guard, String requestId) {
        this.guard = guard;
        this.requestId = requestId;
    }

    // ---- whole bodies ------------------------------------------------------------------------------

    /** The body the client gets instead of {@code json}. */
    byte[] onBody(byte[] json) {
        JsonNode root = Json.readOrNull(json);
        if (root == null) {
            String text = new String(json, StandardCharsets.UTF_8);
            String out = guard.redact(text, TextFields.Kind.TEXT, audit("body"));
            return out.equals(text) ? json : out.getBytes(StandardCharsets.UTF_8);
        }
        boolean changed = TextFields.rewriteBody(root, (path, text, kind) -> guard.redact(text, kind, audit(path.toString())));
        changed |= dropLogprobs(root.get("choices"));
        if (!changed) {
            return json;
        }
        try {
            return Json.MAPPER.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw failed(e);
        }
    }

    // ---- streams -----------------------------------------------------------------------------------

    /** Emits what the client gets for {@code e}: maybe flushed text first, then the event (rewritten or not). */
    void onEvent(SseEvent e, Consumer<SseEvent> out) {
        try {
            String data = e.data();
            if (data == null) {
                out.accept(e);
                return;
            }
            if (data.equals("[DONE]")) {
                flushAll(out);
                out.accept(e);
                return;
            }
            JsonNode root = Json.readOrNull(data);
            if (!(root instanceof ObjectNode o)) {
                String red = guard.redact(data, TextFields.Kind.TEXT, audit("data"));
                out.accept(red.equals(data) ? e : SseEvent.of(e.event(), red));
                return;
            }
            String type = o.path("type").asText("");
            if (o.get("sequence_number") != null && o.get("sequence_number").canConvertToLong()) {
                upstreamSeq = o.get("sequence_number").asLong();
            }
            boolean changed;
            if (o.get("choices") instanceof ArrayNode choices) {
                changed = chatChunk(o, choices, out);
            } else if (type.startsWith("response.")) {
                changed = responsesEvent(o, type, out);
            } else if (type.startsWith("content_block_") || type.startsWith("message_")) {
                changed = messagesEvent(o, type, out);
            } else if (type.equals("error") || o.has("error")) {
                changed = false;
            } else {
                changed = TextFields.rewriteBody(o, (path, text, kind) -> guard.redact(text, kind, audit(path.toString())));
            }
            if (added > 0 && o.get("sequence_number") != null && o.get("sequence_number").canConvertToLong()) {
                o.put("sequence_number", o.get("sequence_number").asLong() + added);
                changed = true;
            }
            out.accept(changed ? SseEvent.of(e.event(), write(o)) : e);
        } catch (Refused r) {
            throw r;
        } catch (RuntimeException ex) {
            throw failed(ex);
        }
    }

    /** The stream ended without its own last event: nothing held may be sent unfinished, so flush it. */
    void onStreamEnd(Consumer<SseEvent> out) {
        upstreamSeq++; // anything added now comes after the last event
        flushAll(out);
    }

    // ---- OpenAI chat and completions chunks --------------------------------------------------------

    private boolean chatChunk(ObjectNode chunk, ArrayNode choices, Consumer<SseEvent> out) {
        if (choices.isEmpty()) {
            flushAll(out); // the usage chunk comes after every choice finished
            return false;
        }
        boolean changed = false;
        for (JsonNode cn : choices) {
            if (!(cn instanceof ObjectNode c)) {
                continue;
            }
            int i = c.path("index").asInt(0);
            boolean finished = c.hasNonNull("finish_reason");
            if (c.get("delta") instanceof ObjectNode delta) {
                changed |= chatDelta(chunk, i, delta, finished);
            } else if (c.get("text") != null && c.get("text").isTextual()) {
                String s = push("c" + i, c.get("text").textValue(), TextFields.Kind.TEXT, "choices[" + i + "].text",
                        rest -> chatCarrier(chunk, i, d -> d.put("text", rest), true));
                if (finished) {
                    s += finish("c" + i);
                }
                c.put("text", s);
                changed = true;
            }
            changed |= dropLogprobs(c);
        }
        return changed;
    }

    private boolean chatDelta(ObjectNode chunk, int i, ObjectNode delta, boolean finished) {
        boolean changed = false;
        String contentKey = "c" + i;
        if (delta.get("content") != null && delta.get("content").isTextual()) {
            delta.put("content", push(contentKey, delta.get("content").textValue(), TextFields.Kind.TEXT,
                    "choices[" + i + "].content", rest -> chatCarrier(chunk, i, d -> d.put("content", rest), false)));
            changed = true;
        }
        if (delta.get("refusal") != null && delta.get("refusal").isTextual()) {
            delta.put("refusal", push("r" + i, delta.get("refusal").textValue(), TextFields.Kind.TEXT,
                    "choices[" + i + "].refusal", rest -> chatCarrier(chunk, i, d -> d.put("refusal", rest), false)));
            changed = true;
        }
        if (delta.get("tool_calls") instanceof ArrayNode calls) {
            changed |= appendRest(delta, "content", finish(contentKey)); // text before the tool calls is complete
            List<ObjectNode> given = new ArrayList<>();
            calls.forEach(n -> {
                if (n instanceof ObjectNode o) {
                    given.add(o);
                }
            });
            for (ObjectNode call : given) {
                int j = call.path("index").asInt(0);
                String key = "t" + i + "." + j;
                closeOtherToolCalls(i, key, calls);
                if (call.get("function") instanceof ObjectNode f && f.get("arguments") != null && f.get("arguments").isTextual()) {
                    f.put("arguments", push(key, f.get("arguments").textValue(), TextFields.Kind.JSON_SOURCE,
                            "choices[" + i + "].tool_calls[" + j + "].function.arguments",
                            rest -> chatCarrier(chunk, i, d -> d.putArray("tool_calls").add(toolCallRest(j, rest)), false)));
                    changed = true;
                }
            }
        }
        if (finished) {
            changed |= appendRest(delta, "content", finish(contentKey));
            changed |= appendRest(delta, "refusal", finish("r" + i));
            ArrayNode calls = delta.get("tool_calls") instanceof ArrayNode a ? a : null;
            for (String key : keysWithPrefix("t" + i + ".")) {
                String rest = finish(key);
                if (!rest.isEmpty()) {
                    if (calls == null) {
                        calls = delta.putArray("tool_calls");
                    }
                    appendToolRest(calls, Integer.parseInt(key.substring(key.indexOf('.') + 1)), rest);
                    changed = true;
                }
            }
        }
        return changed;
    }

    /** A chat tool call at another index started: the earlier ones' arguments are complete. */
    private void closeOtherToolCalls(int choice, String current, ArrayNode calls) {
        for (String key : keysWithPrefix("t" + choice + ".")) {
            if (!key.equals(current)) {
                String rest = finish(key);
                if (!rest.isEmpty()) {
                    appendToolRest(calls, Integer.parseInt(key.substring(key.indexOf('.') + 1)), rest);
                }
            }
        }
    }

    private static void appendToolRest(ArrayNode calls, int index, String rest) {
        for (JsonNode n : calls) {
            if (n instanceof ObjectNode o && o.path("index").asInt(-1) == index) {
                ObjectNode f = o.get("function") instanceof ObjectNode fn ? fn : o.putObject("function");
                f.put("arguments", f.path("arguments").asText("") + rest);
                return;
            }
        }
        calls.insert(0, toolCallRest(index, rest));
    }

    private static ObjectNode toolCallRest(int index, String rest) {
        ObjectNode call = Json.MAPPER.createObjectNode();
        call.put("index", index);
        call.putObject("function").put("arguments", rest);
        return call;
    }

    /** A chunk of its own carrying a flushed rest for choice {@code i}, shaped like {@code like}. */
    private static SseEvent chatCarrier(ObjectNode like, int i, Consumer<ObjectNode> fill, boolean completions) {
        ObjectNode chunk = like.deepCopy();
        chunk.remove("usage");
        ArrayNode choices = chunk.putArray("choices");
        ObjectNode c = choices.addObject();
        c.put("index", i);
        if (completions) {
            fill.accept(c);
        } else {
            fill.accept(c.putObject("delta"));
        }
        c.putNull("finish_reason");
        return SseEvent.of(null, write(chunk));
    }

    // ---- Anthropic messages ------------------------------------------------------------------------

    private boolean messagesEvent(ObjectNode o, String type, Consumer<SseEvent> out) {
        int i = o.path("index").asInt(0);
        String key = "b" + i;
        switch (type) {
            case "content_block_start" -> {
                if (o.get("content_block") instanceof ObjectNode block) {
                    // rewritten in place: the wrapper holds the event's own block
                    return TextFields.rewriteContent(wrap(block), "content",
                            (path, text, kind) -> guard.redact(text, kind, audit("content[" + i + "]")));
                }
                return false;
            }
            case "content_block_delta" -> {
                if (!(o.get("delta") instanceof ObjectNode d)) {
                    return false;
                }
                String dt = d.path("type").asText("");
                if (dt.equals("text_delta") && d.get("text") != null && d.get("text").isTextual()) {
                    d.put("text", push(key, d.get("text").textValue(), TextFields.Kind.TEXT, "content[" + i + "].text",
                            rest -> blockCarrier(i, "text_delta", "text", rest)));
                    return true;
                }
                if (dt.equals("input_json_delta") && d.get("partial_json") != null && d.get("partial_json").isTextual()) {
                    d.put("partial_json", push(key, d.get("partial_json").textValue(), TextFields.Kind.JSON_SOURCE,
                            "content[" + i + "].input", rest -> blockCarrier(i, "input_json_delta", "partial_json", rest)));
                    return true;
                }
                return false;
            }
            case "content_block_stop" -> {
                flush(key, out);
                return false;
            }
            case "message_start" -> {
                return TextFields.rewriteBody(o.path("message"),
                        (path, text, kind) -> guard.redact(text, kind, audit(path.toString())));
            }
            default -> { // message_delta, message_stop
                flushAll(out);
                return false;
            }
        }
    }

    private static ObjectNode wrap(ObjectNode block) {
        ObjectNode holder = Json.MAPPER.createObjectNode();
        holder.putArray("content").add(block);
        return holder;
    }

    private static SseEvent blockCarrier(int index, String deltaType, String field, String rest) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("type", "content_block_delta");
        e.put("index", index);
        ObjectNode d = e.putObject("delta");
        d.put("type", deltaType);
        d.put(field, rest);
        return SseEvent.of("content_block_delta", write(e));
    }

    // ---- OpenAI Responses --------------------------------------------------------------------------

    private boolean responsesEvent(ObjectNode o, String type, Consumer<SseEvent> out) {
        String at = o.path("output_index").asInt(0) + "." + o.path("content_index").asInt(0);
        switch (type) {
            case "response.output_text.delta" -> {
                dropLogprobsField(o);
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
                dropLogprobsField(o);
                return done(o, "o" + at, "text", TextFields.Kind.TEXT, out);
            }
            case "response.refusal.done" -> {
                return done(o, "r" + at, "refusal", TextFields.Kind.TEXT, out);
            }
            case "response.function_call_arguments.done" -> {
                return done(o, "f" + o.path("output_index").asInt(0), "arguments", TextFields.Kind.JSON_SOURCE, out);
            }
            case "response.content_part.added", "response.content_part.done" -> {
                return o.get("part") instanceof ObjectNode part
                        && TextFields.rewriteContent(wrap(part), "content", this::again);
            }
            case "response.output_item.added", "response.output_item.done" -> {
                return TextFields.rewriteItem(o.get("item"), this::again);
            }
            default -> {
                if (type.equals("response.completed") || type.equals("response.incomplete") || type.equals("response.failed")) {
                    flushAll(out);
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
        o.put(field, push(key, v.textValue(), kind, where, rest -> {
            ObjectNode e = template.deepCopy();
            e.put(field, rest);
            if (e.has("sequence_number")) {
                e.put("sequence_number", Math.max(upstreamSeq, 0) + added++); // it goes right before the current event
            }
            return SseEvent.of(e.path("type").asText(null), write(e));
        }));
        return true;
    }

    /** The event that repeats a streamed text whole: flush the rest as one more delta, then rewrite the whole. */
    private boolean done(ObjectNode o, String key, String field, TextFields.Kind kind, Consumer<SseEvent> out) {
        flush(key, out);
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

    // ---- the streamed texts ------------------------------------------------------------------------

    private String push(String key, String delta, TextFields.Kind kind, String where, Function<String, SseEvent> carrier) {
        Open s = open.get(key);
        if (s == null) {
            Consumer<Finding> sink = audit(where);
            TextStream stream = kind == TextFields.Kind.JSON_SOURCE
                    ? new JsonTextStream(guard.scanner, guard.redactor, sink)
                    : new StreamRedactor(guard.scanner, guard.redactor, sink);
            s = new Open(stream, carrier);
            open.put(key, s);
        }
        String out = s.stream.push(delta);
        guard.audit.maxHeld.accumulate(s.stream.held());
        return out;
    }

    /** Ends one streamed text; returns its redacted rest ("" when nothing was held or it was not open). */
    private String finish(String key) {
        Open s = open.remove(key);
        return s == null ? "" : s.stream.finish();
    }

    private void flush(String key, Consumer<SseEvent> out) {
        Open s = open.remove(key);
        if (s != null) {
            String rest = s.stream.finish();
            if (!rest.isEmpty()) {
                out.accept(s.carrier.apply(rest));
            }
        }
    }

    private void flushAll(Consumer<SseEvent> out) {
        for (String key : new ArrayList<>(open.keySet())) {
            flush(key, out);
        }
    }

    private List<String> keysWithPrefix(String prefix) {
        List<String> keys = new ArrayList<>();
        for (String k : open.keySet()) {
            if (k.startsWith(prefix)) {
                keys.add(k);
            }
        }
        return keys;
    }

    private static boolean appendRest(ObjectNode holder, String field, String rest) {
        if (rest.isEmpty()) {
            return false;
        }
        JsonNode v = holder.get(field);
        holder.put(field, (v != null && v.isTextual() ? v.textValue() : "") + rest);
        return true;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private Consumer<Finding> audit(String where) {
        return f -> {
            guard.audit.record(requestId, "response", where, f);
            if (guard.blocks()) {
                guard.audit.blockedResponses.increment();
                throw new Refused(PiiGuard.blocked("The response was withheld: the model's answer contains "
                        + f.type() + " (pii='block' with pii_scope including 'response')."), true);
            }
        };
    }

    private Refused failed(Exception e) {
        guard.audit.failedStreams.increment();
        return new Refused(new ErrorReply(502, "server_error", "api_error", "pii_scan_failed",
                "The router could not check this response for PII (" + e.getClass().getSimpleName()
                        + "), so it was stopped rather than passed on unchecked."), false);
    }

    /**
     * Log probabilities spell out the tokens of the text, values included, and cannot be redacted in
     * step with it: when the text is rewritten or blocked they are withheld.
     */
    private boolean dropLogprobs(JsonNode choices) {
        if (!guard.redactor.mode().rewrites() && !guard.blocks() || choices == null) {
            return false;
        }
        boolean changed = false;
        Iterator<JsonNode> it = choices.isArray() ? choices.elements() : List.of(choices).iterator();
        while (it.hasNext()) {
            if (it.next() instanceof ObjectNode c && c.hasNonNull("logprobs")) {
                c.putNull("logprobs");
                changed = true;
            }
        }
        return changed;
    }

    private void dropLogprobsField(ObjectNode o) {
        if ((guard.redactor.mode().rewrites() || guard.blocks()) && o.get("logprobs") instanceof ArrayNode a && !a.isEmpty()) {
            o.putArray("logprobs");
        }
    }

    private static String write(JsonNode n) {
        try {
            return Json.MAPPER.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed event could not be written back", e);
        }
    }
}
