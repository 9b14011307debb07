package io.ironruntime.cost;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What a request can cost before it is sent: its input tokens and the output bound the client set,
 * if any. Pure.
 *
 * <p>Input is read from every text the model reads: message contents (strings or text parts), system
 * prompts, tool definitions, tool calls and results, Responses {@code input} and {@code instructions}.
 * Each message adds {@link #TOKENS_PER_MESSAGE} (OpenAI's documented chat overhead is 3, plus 3 to
 * prime the reply), each image {@link #TOKENS_PER_IMAGE}, about the most either provider charges for
 * one image at default detail, and a base64 document one token per two characters of its data.
 *
 * <p>Two input figures, for two uses. {@link #inputBound()} costs no tokenizer: both providers use
 * byte-level BPE tokenizers, where every token covers at least one byte, so the UTF-8 length of the
 * text plus the fixed overheads is an upper bound. It is what a reservation tries first, since it
 * is cheap and safe. {@link #inputTokens()} runs the model's tokenizer (once, on first call): tight
 * (exact text for OpenAI, a documented over-estimate for Claude), for when the budget is too short for
 * the loose bound and for charging a request the provider reported no usage for.
 */
public final class RequestEstimate {
    public static final int TOKENS_PER_MESSAGE = 4;
    public static final int TOKENS_PER_IMAGE = 1_600;
    /** No provider lets one request produce more; larger bounds are a client error. */
    public static final long MAX_OUTPUT_BOUND = 10_000_000L;
    /** OpenAI allows up to 128 completions per request. */
    public static final int MAX_CHOICES = 128;

    private final String model;
    /** The text the model reads, by reference: strings and JSON subtrees, a null after each unit. */
    private final List<Object> texts;
    private final long textBytes;
    private final long fixedTokens;
    private final long outputBound;
    private long inputTokens = -1;

    private RequestEstimate(String model, List<Object> texts, long textBytes, long fixedTokens, long outputBound) {
        this.model = model;
        this.texts = texts;
        this.textBytes = textBytes;
        this.fixedTokens = fixedTokens;
        this.outputBound = outputBound;
    }

    /** A request field that cannot be priced; the message is for the client. */
    public static final class InvalidRequest extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        InvalidRequest(String message) {
            super(message);
        }
    }

    public static RequestEstimate of(String model, JsonNode body) {
        if (body == null || !body.isObject()) {
            return new RequestEstimate(model, List.of(), 0, 0, -1);
        }
        Walker w = new Walker();
        w.messages(body.get("messages"));
        w.anything(body.get("system"));
        w.anything(body.get("instructions"));
        JsonNode input = body.get("input");
        if (input != null && input.isArray()) {
            w.messages(input);
        } else {
            w.anything(input);
        }
        w.json(body.get("tools"));
        w.json(body.get("functions"));
        w.json(body.get("response_format"));
        w.flush();
        long fixed = w.fixedTokens + (w.messages > 0 ? 3 : 0);
        return new RequestEstimate(model, w.units, w.bytes, fixed, outputBound(body));
    }

    /** The client's {@code max_completion_tokens} / {@code max_output_tokens} / {@code max_tokens}, or -1. */
    public long outputBound() {
        return outputBound;
    }

    public boolean hasOutputBound() {
        return outputBound >= 0;
    }

    /** An upper bound of the input tokens that needs no tokenizer (see the class comment). */
    public long inputBound() {
        return textBytes + fixedTokens;
    }

    /**
     * The tightest input figure known without more work: the tokenizer's count when something already
     * asked for it (a reservation that needed it), else {@link #inputBound()}.
     */
    public synchronized long inputEstimate() {
        return inputTokens >= 0 ? inputTokens : inputBound();
    }

    /** The input tokens by the model's tokenizer; computed on first call. Never above {@link #inputBound()}. */
    public synchronized long inputTokens() {
        if (inputTokens < 0) {
            long n = fixedTokens;
            StringBuilder unit = new StringBuilder();
            for (Object part : texts) {
                if (part == null) {
                    n += TokenCounter.count(model, unit.toString());
                    unit.setLength(0);
                } else {
                    unit.append(part instanceof JsonNode j ? j.toString() : (String) part).append('\n');
                }
            }
            inputTokens = Math.min(n, inputBound());
        }
        return inputTokens;
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

    /**
     * How many completions a Chat Completions or legacy Completions request asks for ({@code n}, or
     * {@code best_of}): each is billed up to the output bound.
     */
    public static int choices(JsonNode body) {
        int most = 1;
        for (String field : new String[] {"n", "best_of"}) {
            JsonNode n = body.get(field);
            if (n == null || n.isNull()) {
                continue;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1 || n.asInt() > MAX_CHOICES) {
                throw new InvalidRequest(field + " must be a whole number between 1 and " + MAX_CHOICES);
            }
            most = Math.max(most, n.asInt());
        }
        return most;
    }

    /** UTF-8 length without encoding: what a byte-level tokenizer can at most split the text into. */
    static long utf8Length(String s) {
        if (s.length() > 32) {
            // The JDK encodes mostly-ASCII text with vectorised intrinsics: several times faster than the loop below.
            return s.getBytes(StandardCharsets.UTF_8).length;
        }
        long n = s.length();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                // 2 bytes below U+0800, 3 above; a surrogate pair (2 chars) is 4 bytes.
                n += c < 0x800 ? 1 : Character.isSurrogate(c) ? 1 : 2;
            }
        }
        return n;
    }

    /**
     * Walks the request, noting the text the model reads in units (one per message or field) without
     * copying it: the strings and JSON subtrees are kept by reference and only joined for the tokenizer.
     */
    private static final class Walker {
        /** Strings and JSON subtrees; a null closes a unit. */
        private final List<Object> units = new ArrayList<>();
        private boolean open;
        private long bytes;
        private long fixedTokens;
        private int messages;

        void messages(JsonNode list) {
            if (list == null || !list.isArray()) {
                return;
            }
            for (JsonNode m : list) {
                messages++;
                fixedTokens += TOKENS_PER_MESSAGE;
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

        /** Strings, text parts, images and documents, recursively through parts and tool results. */
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
                    fixedTokens += TOKENS_PER_IMAGE;
                    return;
                }
                if (type.equals("document") || type.equals("input_file") || type.equals("file")) {
                    document(n);
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

        private void document(JsonNode n) {
            JsonNode source = n.has("source") ? n.get("source") : n.has("file") ? n.get("file") : n;
            JsonNode data = source.has("data") ? source.get("data") : source.get("file_data");
            if (data != null && data.isTextual() && !"text".equals(source.path("type").asText())) {
                fixedTokens += data.asText().length() / 2 + 1;
            } else {
                anything(data);
            }
        }

        void json(JsonNode n) {
            if (n != null && !n.isNull()) {
                units.add(n);
                open = true;
                bytes += jsonBytes(n) + 1;
                flush();
            }
        }

        private void add(String s) {
            if (!s.isEmpty()) {
                units.add(s);
                open = true;
                bytes += utf8Length(s) + 1;
            }
        }

        void flush() {
            if (open) {
                units.add(null);
                open = false;
            }
        }
    }

    /** The length of {@code n} written as compact JSON, without writing it (escapes aside). */
    static long jsonBytes(JsonNode n) {
        if (n.isTextual()) {
            return utf8Length(n.asText()) + 2;
        }
        if (n.isObject()) {
            long b = 2;
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                b += utf8Length(e.getKey()) + 4 + jsonBytes(e.getValue());
            }
            return b;
        }
        if (n.isArray()) {
            long b = 2;
            for (JsonNode v : n) {
                b += jsonBytes(v) + 1;
            }
            return b;
        }
        return n.isNumber() ? 24 : 5; // numbers at most a double's length; true, false, null
    }
}
