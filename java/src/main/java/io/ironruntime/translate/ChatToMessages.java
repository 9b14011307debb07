package io.ironruntime.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An OpenAI Chat Completions request as an Anthropic Messages request: pure, no I/O.
 * <p>
 * System and developer messages become {@code system}; tool results become {@code tool_result} blocks
 * of a user turn; consecutive turns of one role are merged (Anthropic alternates user and assistant);
 * images by data URL or http URL; tools and tool choice; stop sequences; JSON mode as an instruction.
 * Fields without a counterpart are dropped and named in {@link Translated#dropped()}; what cannot be
 * expressed at all ({@code n} above 1, audio or file parts) is a {@link TranslationException}.
 */
public final class ChatToMessages {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    /** Handled here; any other field of the request is dropped with a note. */
    private static final Set<String> KNOWN = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "stop", "n", "tools", "tool_choice", "parallel_tool_calls", "response_format",
            "user", "stream", "stream_options");
    static final String JSON_MODE = "Respond with a single valid JSON object and nothing else.";

    private ChatToMessages() {
    }

    /**
     * @param defaultMaxTokens {@code max_tokens} when the client set none (Anthropic requires one), or 0 to
     *                         leave it out for the caller to set (the router sizes it to the budget)
     */
    public static Translated translate(JsonNode chat, int defaultMaxTokens) throws TranslationException {
        if (chat == null || !chat.isObject()) {
            throw new TranslationException("the request body must be a JSON object");
        }
        ObjectNode out = F.objectNode();
        List<String> dropped = new ArrayList<>();
        out.set("model", chat.get("model"));
        int n = chat.path("n").asInt(1);
        if (n != 1) {
            throw new TranslationException("n=" + n + " is not supported for Claude models: send one request per choice");
        }
        JsonNode max = chat.hasNonNull("max_completion_tokens") ? chat.get("max_completion_tokens") : chat.get("max_tokens");
        if (max != null && max.canConvertToInt() && max.asInt() > 0) {
            out.put("max_tokens", max.asInt());
        } else if (defaultMaxTokens > 0) {
            out.put("max_tokens", defaultMaxTokens);
        }
        List<String> system = new ArrayList<>();
        ArrayNode messages = messages(chat.path("messages"), system);
        if (jsonMode(chat.path("response_format"))) {
            system.add(JSON_MODE + schemaNote(chat.path("response_format")));
        }
        if (!system.isEmpty()) {
            out.put("system", String.join("\n\n", system));
        }
        out.set("messages", messages);
        copyNumber(chat, "temperature", out, dropped, 1.0);
        copyNumber(chat, "top_p", out, dropped, 1.0);
        stop(chat.get("stop"), out);
        tools(chat, out);
        if (chat.path("user").isTextual()) {
            out.putObject("metadata").put("user_id", chat.get("user").asText());
        }
        if (chat.path("stream").asBoolean(false)) {
            out.put("stream", true);
        }
        for (Iterator<String> it = chat.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!KNOWN.contains(name)) {
                dropped.add(name);
            }
        }
        return new Translated(out, dropped);
    }

    // ---- messages -----------------------------------------------------------------------------------

    private static ArrayNode messages(JsonNode in, List<String> system) throws TranslationException {
        if (!in.isArray() || in.isEmpty()) {
            throw new TranslationException("\"messages\" must be a non-empty array");
        }
        ArrayNode out = F.arrayNode();
        for (int i = 0; i < in.size(); i++) {
            JsonNode m = in.get(i);
            String role = m.path("role").asText("");
            switch (role) {
                case "system", "developer" -> system.add(text(m.get("content"), i));
                case "user" -> append(out, "user", userBlocks(m.get("content"), i));
                case "assistant" -> append(out, "assistant", assistantBlocks(m, i));
                case "tool" -> append(out, "user", List.of(toolResult(m, i)));
                default -> throw new TranslationException("messages[" + i + "] has role '" + role
                        + "', which Claude models cannot take (use system, developer, user, assistant or tool)");
            }
        }
        return out;
    }

    /** Adds blocks as a turn of {@code role}, merged into the previous turn when it has the same role. */
    private static void append(ArrayNode out, String role, List<ObjectNode> blocks) {
        if (blocks.isEmpty()) {
            return;
        }
        ObjectNode last = out.isEmpty() ? null : (ObjectNode) out.get(out.size() - 1);
        ArrayNode content;
        if (last != null && last.path("role").asText().equals(role)) {
            content = (ArrayNode) last.get("content");
        } else {
            ObjectNode turn = out.addObject();
            turn.put("role", role);
            content = turn.putArray("content");
        }
        blocks.forEach(content::add);
    }

    private static List<ObjectNode> userBlocks(JsonNode content, int i) throws TranslationException {
        List<ObjectNode> blocks = new ArrayList<>();
        if (content == null || content.isNull()) {
            return blocks;
        }
        if (content.isTextual()) {
            blocks.add(textBlock(content.asText()));
            return blocks;
        }
        if (!content.isArray()) {
            throw new TranslationException("messages[" + i + "].content must be a string or an array of parts");
        }
        for (JsonNode part : content) {
            String type = part.path("type").asText("");
            switch (type) {
                case "text" -> blocks.add(textBlock(part.path("text").asText("")));
                case "image_url" -> blocks.add(image(part.path("image_url").path("url").asText(""), i));
                default -> throw new TranslationException("messages[" + i + "] has a '" + type
                        + "' part, which Claude models cannot take through this router (text and images only)");
            }
        }
        return blocks;
    }

    private static List<ObjectNode> assistantBlocks(JsonNode m, int i) throws TranslationException {
        List<ObjectNode> blocks = new ArrayList<>();
        JsonNode content = m.get("content");
        if (content != null && !content.isNull()) {
            String t = text(content, i);
            if (!t.isEmpty()) {
                blocks.add(textBlock(t));
            }
        }
        for (JsonNode call : m.path("tool_calls")) {
            ObjectNode use = F.objectNode();
            use.put("type", "tool_use");
            use.put("id", call.path("id").asText());
            use.put("name", call.path("function").path("name").asText());
            use.set("input", arguments(call.path("function").path("arguments"), i));
            blocks.add(use);
        }
        return blocks;
    }

    private static JsonNode arguments(JsonNode args, int i) throws TranslationException {
        if (args.isObject()) {
            return args;
        }
        String text = args.asText("");
        if (text.isBlank()) {
            return F.objectNode();
        }
        try {
            JsonNode parsed = Json.MAPPER.readTree(text);
            if (parsed != null && parsed.isObject()) {
                return parsed;
            }
        } catch (JsonProcessingException e) {
            // reported below
        }
        throw new TranslationException("messages[" + i + "] has a tool call whose arguments are not a JSON object");
    }

    private static ObjectNode toolResult(JsonNode m, int i) throws TranslationException {
        String id = m.path("tool_call_id").asText("");
        if (id.isEmpty()) {
            throw new TranslationException("messages[" + i + "] is a tool message without tool_call_id");
        }
        ObjectNode r = F.objectNode();
        r.put("type", "tool_result");
        r.put("tool_use_id", id);
        r.put("content", text(m.get("content"), i));
        return r;
    }

    /** The text of a string content or of an array of text parts (joined). */
    private static String text(JsonNode content, int i) throws TranslationException {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder b = new StringBuilder();
            for (JsonNode part : content) {
                if (!part.path("type").asText("").equals("text")) {
                    throw new TranslationException("messages[" + i + "] may hold only text parts here");
                }
                b.append(part.path("text").asText(""));
            }
            return b.toString();
        }
        throw new TranslationException("messages[" + i + "].content must be a string or an array of parts");
    }

    private static ObjectNode textBlock(String text) {
        ObjectNode b = F.objectNode();
        b.put("type", "text");
        b.put("text", text);
        return b;
    }

    /** A data URL becomes a base64 source; an http(s) URL a url source. */
    static ObjectNode image(String url, int i) throws TranslationException {
        ObjectNode b = F.objectNode();
        b.put("type", "image");
        ObjectNode source = b.putObject("source");
        if (url.startsWith("data:")) {
            int comma = url.indexOf(',');
            String meta = comma < 0 ? "" : url.substring(5, comma);
            if (comma < 0 || !meta.endsWith(";base64")) {
                throw new TranslationException("messages[" + i + "] has an image data URL that is not base64");
            }
            source.put("type", "base64");
            source.put("media_type", meta.substring(0, meta.length() - ";base64".length()));
            source.put("data", url.substring(comma + 1));
        } else if (url.startsWith("https://") || url.startsWith("http://")) {
            source.put("type", "url");
            source.put("url", url);
        } else {
            throw new TranslationException("messages[" + i + "] has an image that is neither a data URL nor an http(s) URL");
        }
        return b;
    }

    // ---- sampling, stop, tools --------------------------------------------------------------------------

    /** Copies a number, clamped to Anthropic's upper bound (OpenAI allows temperatures up to 2). */
    private static void copyNumber(JsonNode chat, String name, ObjectNode out, List<String> notes, double max) {
        JsonNode v = chat.get(name);
        if (v == null || v.isNull()) {
            return;
        }
        if (!v.isNumber()) {
            notes.add(name);
            return;
        }
        if (v.asDouble() > max) {
            out.put(name, max);
            notes.add(name + " (clamped to " + max + ")");
        } else {
            out.set(name, v);
        }
    }

    private static void stop(JsonNode stop, ObjectNode out) {
        if (stop == null || stop.isNull()) {
            return;
        }
        ArrayNode seq = F.arrayNode();
        if (stop.isTextual()) {
            seq.add(stop.asText());
        } else {
            stop.forEach(s -> seq.add(s.asText()));
        }
        if (!seq.isEmpty()) {
            out.set("stop_sequences", seq);
        }
    }

    private static void tools(JsonNode chat, ObjectNode out) throws TranslationException {
        JsonNode tools = chat.get("tools");
        if (tools != null && tools.isArray() && !tools.isEmpty()) {
            ArrayNode t = out.putArray("tools");
            for (JsonNode tool : tools) {
                if (!tool.path("type").asText("function").equals("function")) {
                    throw new TranslationException("tool type '" + tool.path("type").asText()
                            + "' is not supported for Claude models (function tools only)");
                }
                JsonNode fn = tool.path("function");
                ObjectNode a = t.addObject();
                a.put("name", fn.path("name").asText());
                if (fn.hasNonNull("description")) {
                    a.put("description", fn.get("description").asText());
                }
                JsonNode params = fn.get("parameters");
                a.set("input_schema", params != null && params.isObject() ? params : F.objectNode().put("type", "object"));
            }
        }
        ObjectNode choice = toolChoice(chat.get("tool_choice"));
        if (chat.path("parallel_tool_calls").isBoolean() && !chat.get("parallel_tool_calls").asBoolean()) {
            if (choice == null) {
                choice = F.objectNode().put("type", "auto");
            }
            if (!choice.path("type").asText().equals("none")) {
                choice.put("disable_parallel_tool_use", true);
            }
        }
        if (choice != null && out.has("tools")) {
            out.set("tool_choice", choice);
        }
    }

    private static ObjectNode toolChoice(JsonNode c) throws TranslationException {
        if (c == null || c.isNull()) {
            return null;
        }
        if (c.isTextual()) {
            Map<String, String> types = Map.of("auto", "auto", "none", "none", "required", "any");
            String t = types.get(c.asText());
            if (t == null) {
                throw new TranslationException("tool_choice '" + c.asText() + "' is not one of auto, none, required");
            }
            return F.objectNode().put("type", t);
        }
        String name = c.path("function").path("name").asText("");
        if (name.isEmpty()) {
            throw new TranslationException("tool_choice must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\":...}}");
        }
        return F.objectNode().put("type", "tool").put("name", name);
    }

    private static boolean jsonMode(JsonNode format) {
        String t = format.path("type").asText("");
        return t.equals("json_object") || t.equals("json_schema");
    }

    private static String schemaNote(JsonNode format) {
        JsonNode schema = format.path("json_schema").path("schema");
        return schema.isObject() ? " It must match this JSON schema: " + schema : "";
    }
}
