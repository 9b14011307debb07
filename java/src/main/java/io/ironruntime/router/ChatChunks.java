package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.provider.SseEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * OpenAI chat and completions chunks: each choice's content and refusal, and each of its tool calls'
 * arguments, is a streamed text. What is held is flushed into the chunk that finishes the choice
 * ({@code finish_reason}), into the chunk where tool calls start (for the content before them) or a
 * new tool call starts (for the previous call), and otherwise before the usage chunk or {@code [DONE]}.
 */
final class ChatChunks {
    private final StreamTexts texts;

    ChatChunks(StreamTexts texts) {
        this.texts = texts;
    }

    boolean chunk(ObjectNode chunk, ArrayNode choices, Consumer<SseEvent> out) {
        if (choices.isEmpty()) {
            texts.flushAll(out); // the usage chunk comes after every choice finished
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
                String s = texts.push("c" + i, c.get("text").textValue(), TextFields.Kind.TEXT, "choices[" + i + "].text",
                        rest -> chatCarrier(chunk, i, d -> d.put("text", rest), true));
                if (finished) {
                    s += texts.finish("c" + i);
                }
                c.put("text", s);
                changed = true;
            }
        }
        return changed;
    }

    private boolean chatDelta(ObjectNode chunk, int i, ObjectNode delta, boolean finished) {
        boolean changed = false;
        String contentKey = "c" + i;
        if (delta.get("content") != null && delta.get("content").isTextual()) {
            delta.put("content", texts.push(contentKey, delta.get("content").textValue(), TextFields.Kind.TEXT,
                    "choices[" + i + "].content", rest -> chatCarrier(chunk, i, d -> d.put("content", rest), false)));
            changed = true;
        }
        if (delta.get("refusal") != null && delta.get("refusal").isTextual()) {
            delta.put("refusal", texts.push("r" + i, delta.get("refusal").textValue(), TextFields.Kind.TEXT,
                    "choices[" + i + "].refusal", rest -> chatCarrier(chunk, i, d -> d.put("refusal", rest), false)));
            changed = true;
        }
        if (delta.get("tool_calls") instanceof ArrayNode calls) {
            changed |= appendRest(delta, "content", texts.finish(contentKey)); // text before the tool calls is complete
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
                    f.put("arguments", texts.push(key, f.get("arguments").textValue(), TextFields.Kind.JSON_SOURCE,
                            "choices[" + i + "].tool_calls[" + j + "].function.arguments",
                            rest -> chatCarrier(chunk, i, d -> d.putArray("tool_calls").add(toolCallRest(j, rest)), false)));
                    changed = true;
                }
            }
        }
        if (finished) {
            changed |= appendRest(delta, "content", texts.finish(contentKey));
            changed |= appendRest(delta, "refusal", texts.finish("r" + i));
            ArrayNode calls = delta.get("tool_calls") instanceof ArrayNode a ? a : null;
            for (String key : texts.keysWithPrefix("t" + i + ".")) {
                String rest = texts.finish(key);
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
        for (String key : texts.keysWithPrefix("t" + choice + ".")) {
            if (!key.equals(current)) {
                String rest = texts.finish(key);
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
        return SseEvent.of(null, ResponsePii.write(chunk));
    }

    private static boolean appendRest(ObjectNode holder, String field, String rest) {
        if (rest.isEmpty()) {
            return false;
        }
        JsonNode v = holder.get(field);
        holder.put(field, (v != null && v.isTextual() ? v.textValue() : "") + rest);
        return true;
    }
}
