package io.ironruntime.cost;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * What a request can cost before it is sent: its input tokens (counted from the text it carries) and
 * the output bound the client set, if any. Pure.
 *
 * <p>Input is counted over every text the model reads: message contents (strings or text parts),
 * system prompts, tool definitions, tool calls and results, Responses {@code input} and
 * {@code instructions}. Each message adds {@link #TOKENS_PER_MESSAGE} (OpenAI's documented chat
 * overhead is 3, plus 3 to prime the reply), and each image {@link #TOKENS_PER_IMAGE}, about the most
 * either provider charges for one image at default detail. The result is meant as the input side of a
 * reservation, so where it cannot be exact it errs high.
 *
 * @param inputTokens estimated input tokens
 * @param outputBound the client's {@code max_completion_tokens} / {@code max_tokens} /
 *                    {@code max_output_tokens}, or -1 when it set none
 */
public record RequestEstimate(long inputTokens, long outputBound) {
    public static final int TOKENS_PER_MESSAGE = 4;
    public static final int TOKENS_PER_IMAGE = 1_600;
    /** No provider lets one request produce more; larger bounds are a client error. */
    public static final long MAX_OUTPUT_BOUND = 10_000_000L;

    /** A request field that cannot be priced; the message is for the client. */
    public static final class InvalidRequest extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        InvalidRequest(String message) {
            super(message);
        }
    }

    public boolean hasOutputBound() {
        return outputBound >= 0;
    }

    public static RequestEstimate of(String model, JsonNode body) {
        if (body == null || !body.isObject()) {
            return new RequestEstimate(0, -1);
        }
        Counter c = new Counter(model);
        c.messages(body.get("messages"));
        c.anything(body.get("system"));
        c.anything(body.get("instructions"));
        JsonNode input = body.get("input");
        if (input != null && input.isArray()) {
            c.messages(input);
        } else {
            c.anything(input);
        }
        c.json(body.get("tools"));
        c.json(body.get("functions"));
        c.json(body.get("response_format"));
        return new RequestEstimate(c.tokens + (c.messages > 0 ? 3 : 0), outputBound(body));
    }

    private static long outputBound(JsonNode body) {
        for (String field : new String[] {"max_completion_tokens", "max_output_tokens", "max_tokens"}) {
            JsonNode n = body.get(field);
            if (n == null || n.isNull()) {
                continue;
            }
            if (!n.isIntegralNumber() || !n.canConvertToLong()) {
                throw new InvalidRequest(field + " must be a whole number of tokens");
            }
            long v = n.asLong();
            if (v < 1 || v > MAX_OUTPUT_BOUND) {
                throw new InvalidRequest(field + " must be between 1 and " + MAX_OUTPUT_BOUND + ", got " + v);
            }
            return v;
        }
        return -1;
    }

    /** Walks the request, counting text with the model's tokenizer. */
    private static final class Counter {
        private final String model;
        private final StringBuilder text = new StringBuilder();
        private long tokens;
        private int messages;

        Counter(String model) {
            this.model = model;
        }

        void messages(JsonNode list) {
            if (list == null || !list.isArray()) {
                return;
            }
            for (JsonNode m : list) {
                messages++;
                tokens += TOKENS_PER_MESSAGE;
                if (m.isObject()) {
                    for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> e = it.next();
                        switch (e.getKey()) {
                            case "content", "text", "output", "arguments", "name", "input" -> anything(e.getValue());
                            case "tool_calls", "function_call" -> json(e.getValue());
                            default -> { } // role, ids, cache_control: not read by the model as text
                        }
                    }
                } else {
                    anything(m);
                }
            }
            flush();
        }

        /** Strings, text parts and images, recursively through parts and tool results. */
        void anything(JsonNode n) {
            if (n == null || n.isNull()) {
                return;
            }
            if (n.isTextual()) {
                add(n.asText());
            } else if (n.isArray()) {
                for (JsonNode part : n) {
                    anything(part);
                }
            } else if (n.isObject()) {
                String type = n.path("type").asText("");
                if (type.contains("image") || n.has("image_url")) {
                    tokens += TOKENS_PER_IMAGE;
                    return;
                }
                if (type.equals("tool_use") || type.equals("function_call")) {
                    json(n.has("input") ? n.get("input") : n.get("arguments"));
                    add(n.path("name").asText(""));
                    return;
                }
                anything(n.get("text"));
                anything(n.get("content"));
                anything(n.get("output"));
            } else {
                add(n.asText());
            }
            flush();
        }

        void json(JsonNode n) {
            if (n != null && !n.isNull()) {
                add(n.toString());
                flush();
            }
        }

        private void add(String s) {
            if (!s.isEmpty()) {
                text.append(s).append('\n');
            }
        }

        private void flush() {
            if (text.length() > 0) {
                tokens += TokenCounter.count(model, text.toString());
                text.setLength(0);
            }
        }
    }
}
