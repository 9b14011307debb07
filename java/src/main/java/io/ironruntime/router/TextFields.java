package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * Finds the text a person or a model wrote in an OpenAI or Anthropic body, request or response, and
 * lets a rewriter replace it in place: message contents (a string or parts), system prompts and
 * instructions, prompts, Responses input and output items, tool and function-call arguments (JSON
 * source) and results, Anthropic tool-use inputs (every string and number inside). Model names, ids,
 * roles, tool definitions, images, files, audio and signed thinking blocks are never visited.
 */
final class TextFields {
    /** How a visited string is to be read. */
    enum Kind {
        /** Plain text. */
        TEXT,
        /** JSON source text (tool-call arguments): strings inside are decoded before scanning. */
        JSON_SOURCE
    }

    /** Returns the replacement for {@code text} ({@code text} itself when unchanged). */
    interface Rewriter {
        String rewrite(FieldPath path, String text, Kind kind);
    }

    private final Rewriter rewriter;
    private final FieldPath path = new FieldPath();
    private boolean changed;

    private TextFields(Rewriter rewriter) {
        this.rewriter = rewriter;
    }

    /** Visits a whole request or response body (or a streamed event that carries whole objects); true when it changed. */
    static boolean rewriteBody(JsonNode root, Rewriter rewriter) {
        TextFields t = new TextFields(rewriter);
        if (root instanceof ObjectNode o) {
            t.root(o);
        }
        return t.changed;
    }

    /** Visits one Responses API item (a message, a function call or its output). */
    static boolean rewriteItem(JsonNode item, Rewriter rewriter) {
        TextFields t = new TextFields(rewriter);
        if (item instanceof ObjectNode o) {
            t.item(o);
        }
        return t.changed;
    }

    /** Visits one content part (a text part, a tool use, a tool result, ...). */
    static boolean rewritePart(ObjectNode part, Rewriter rewriter) {
        TextFields t = new TextFields(rewriter);
        t.part(part);
        return t.changed;
    }

    private void root(ObjectNode o) {
        each(o, "messages", this::message);
        content(o, "system");
        textOrList(o, "prompt", prompt -> { }); // completions: a string or strings (token arrays are numbers)
        textOrList(o, "input", this::item); // Responses items, or embedding inputs
        text(o, "instructions", Kind.TEXT);
        each(o, "choices", c -> {
            object(c, "message", this::message);
            object(c, "delta", this::message);
            text(c, "text", Kind.TEXT);
        });
        each(o, "output", this::item);
        content(o, "content");
        object(o, "response", this::root);
    }

    /** A chat message (or a streamed delta). */
    private void message(ObjectNode m) {
        content(m, "content");
        text(m, "refusal", Kind.TEXT);
        each(m, "tool_calls", tc -> object(tc, "function", f -> text(f, "arguments", Kind.JSON_SOURCE)));
        object(m, "function_call", f -> text(f, "arguments", Kind.JSON_SOURCE));
        object(m, "audio", a -> text(a, "transcript", Kind.TEXT));
    }

    /** A Responses API input or output item. */
    private void item(ObjectNode item) {
        content(item, "content");
        text(item, "arguments", Kind.JSON_SOURCE);
        content(item, "output"); // function_call_output: a string or parts
        content(item, "summary"); // reasoning summaries: summary_text parts
        text(item, "text", Kind.TEXT);
    }

    /** A string, or a list of parts (strings or typed blocks). */
    private void content(ObjectNode holder, String field) {
        textOrList(holder, field, this::part);
    }

    /** A string, or a list of strings and objects (each object visited by {@code visitObject}). */
    private void textOrList(ObjectNode holder, String field, java.util.function.Consumer<ObjectNode> visitObject) {
        JsonNode n = holder.get(field);
        if (n == null) {
            return;
        }
        if (n.isTextual()) {
            text(holder, field, Kind.TEXT);
            return;
        }
        if (!(n instanceof ArrayNode list)) {
            return;
        }
        path.push(field);
        for (int i = 0; i < list.size(); i++) {
            path.push(i);
            JsonNode e = list.get(i);
            if (e.isTextual()) {
                textAt(list, i, Kind.TEXT);
            } else if (e instanceof ObjectNode o) {
                visitObject.accept(o);
            }
            path.pop();
        }
        path.pop();
    }

    private void part(ObjectNode part) {
        String type = part.path("type").asText("");
        switch (type) {
            case "thinking", "redacted_thinking", "image", "image_url", "input_image", "input_audio", "input_file",
                    "file", "audio" -> {
                return; // signed reasoning, media and files: not text to rewrite
            }
            case "tool_use", "server_tool_use" -> {
                JsonNode input = part.get("input");
                if (input != null) {
                    path.push("input");
                    value(part, "input", input);
                    path.pop();
                }
                return;
            }
            case "tool_result" -> {
                content(part, "content");
                return;
            }
            case "document" -> {
                object(part, "source", s -> {
                    if (s.path("type").asText("").equals("text")) {
                        text(s, "data", Kind.TEXT);
                    } else if (s.path("type").asText("").equals("content")) {
                        content(s, "content");
                    }
                });
                return;
            }
            default -> { }
        }
        text(part, "text", Kind.TEXT);
        text(part, "refusal", Kind.TEXT);
    }

    /** Any JSON value a model wrote as structured data: every string and number inside. */
    private void value(JsonNode parent, Object key, JsonNode v) {
        if (v instanceof ObjectNode o) {
            var names = new java.util.ArrayList<String>();
            o.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                path.push(name);
                value(o, name, o.get(name));
                path.pop();
            }
        } else if (v instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                path.push(i);
                value(a, i, a.get(i));
                path.pop();
            }
        } else if (v.isTextual() || v.isNumber()) {
            String before = v.isTextual() ? v.textValue() : v.asText();
            String after = rewriter.rewrite(path, before, Kind.TEXT);
            if (!after.equals(before)) {
                changed = true;
                if (parent instanceof ObjectNode po) {
                    po.set((String) key, TextNode.valueOf(after));
                } else {
                    ((ArrayNode) parent).set((Integer) key, TextNode.valueOf(after));
                }
            }
        }
    }

    private void text(ObjectNode holder, String field, Kind kind) {
        JsonNode n = holder.get(field);
        if (n == null || !n.isTextual() || n.textValue().isEmpty()) {
            return;
        }
        path.push(field);
        String after = rewriter.rewrite(path, n.textValue(), kind);
        path.pop();
        if (!after.equals(n.textValue())) {
            holder.put(field, after);
            changed = true;
        }
    }

    private void textAt(ArrayNode a, int i, Kind kind) {
        String before = a.get(i).textValue();
        if (before.isEmpty()) {
            return;
        }
        String after = rewriter.rewrite(path, before, kind);
        if (!after.equals(before)) {
            a.set(i, TextNode.valueOf(after));
            changed = true;
        }
    }

    private void each(ObjectNode holder, String field, java.util.function.Consumer<ObjectNode> visit) {
        JsonNode n = holder.get(field);
        if (!(n instanceof ArrayNode a)) {
            return;
        }
        path.push(field);
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) instanceof ObjectNode o) {
                path.push(i);
                visit.accept(o);
                path.pop();
            }
        }
        path.pop();
    }

    private void object(ObjectNode holder, String field, java.util.function.Consumer<ObjectNode> visit) {
        if (holder.get(field) instanceof ObjectNode o) {
            path.push(field);
            visit.accept(o);
            path.pop();
        }
    }

    /** Where a visited string is, rendered only when something is found there ({@code messages[1].content}). */
    static final class FieldPath {
        private final Object[] parts = new Object[32];
        private int depth;
        /** Parts deeper than the array holds are counted, not kept: the path is for reading, not addressing. */
        private int overflow;

        void push(Object part) {
            if (depth < parts.length) {
                parts[depth++] = part;
            } else {
                overflow++;
            }
        }

        void pop() {
            if (overflow > 0) {
                overflow--;
            } else {
                depth--;
            }
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < depth; i++) {
                if (parts[i] instanceof Integer n) {
                    sb.append('[').append(n).append(']');
                } else {
                    if (!sb.isEmpty()) {
                        sb.append('.');
                    }
                    sb.append(parts[i]);
                }
            }
            return sb.toString();
        }
    }
}
