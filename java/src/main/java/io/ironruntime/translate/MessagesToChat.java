package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An Anthropic Messages request as an OpenAI Chat Completions request, the mirror of {@link ChatToMessages}:
 * pure, no I/O.
 * <p>
 * {@code system} becomes the first message; {@code tool_result} blocks become {@code tool} messages placed
 * before the rest of their user turn (OpenAI wants them right after the assistant's {@code tool_calls});
 * images by base64 or URL; tools and tool choice; stop sequences; {@code metadata.user_id} as {@code user};
 * a stream always asks for usage, since Anthropic streams always carry it. Thinking, {@code top_k},
 * citations and fields without a counterpart are dropped and named in {@link Translated#dropped()};
 * what a GPT model cannot take at all (documents, server tools, images in tool results, more than four
 * stop sequences) is a {@link TranslationException}.
 * <p>
 * Choices where the APIs differ: a failed tool result ({@code is_error}) is sent as its text prefixed
 * with {@link #TOOL_ERROR_PREFIX}, since a tool message has no error flag; the text blocks of a tool
 * result are joined with a blank line (they are separate pieces of output), those of an assistant turn
 * with nothing (one reply, split by Claude around tool calls or citations).
 */
public final class MessagesToChat {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    /** Handled here; any other field of the request is dropped with a note. */
    private static final Set<String> KNOWN = Set.of("model", "system", "messages", "max_tokens", "temperature",
            "top_p", "stop_sequences", "metadata", "tools", "tool_choice", "stream");
    /** OpenAI's limit on {@code stop}. */
    static final int MAX_STOP_SEQUENCES = 4;
    static final String TOOL_ERROR_PREFIX = "Error: ";

    private MessagesToChat() {
    }

    public static Translated translate(JsonNode request) throws TranslationException {
        if (request == null || !request.isObject()) {
            throw new TranslationException("the request body must be a JSON object");
        }
        ObjectNode out = F.objectNode();
        Set<String> dropped = new LinkedHashSet<>();
        if (request.has("model")) {
            out.set("model", request.get("model"));
        }
        ArrayNode messages = out.putArray("messages");
        String system = system(request.get("system"));
        if (!system.isEmpty()) {
            messages.addObject().put("role", "system").put("content", system);
        }
        messages(request.path("messages"), messages, dropped);
        JsonNode max = request.get("max_tokens");
        if (max != null && max.isIntegralNumber() && max.canConvertToInt() && max.asInt() > 0) {
            out.put("max_completion_tokens", max.asInt());
        } else if (max != null && !max.isNull()) {
            dropped.add("max_tokens");
        }
        copyNumber(request, "temperature", out, dropped);
        copyNumber(request, "top_p", out, dropped);
        stop(request.get("stop_sequences"), out);
        if (request.path("metadata").path("user_id").isTextual()) {
            out.put("user", request.get("metadata").get("user_id").asText());
        }
        tools(request, out);
        if (request.path("stream").asBoolean(false)) {
            out.put("stream", true);
            out.putObject("stream_options").put("include_usage", true);
        }
        for (Iterator<String> it = request.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!KNOWN.contains(name)) {
                dropped.add(name);
            }
        }
        return new Translated(out, new ArrayList<>(dropped));
    }

    /** A string, or text blocks joined by a blank line; cache_control has no counterpart and needs none. */
    private static String system(JsonNode system) throws TranslationException {
        if (system == null || system.isNull()) {
            return "";
        }
        if (system.isTextual()) {
            return system.asText();
        }
        if (!system.isArray()) {
            throw new TranslationException("\"system\" must be a string or an array of text blocks");
        }
        List<String> texts = new ArrayList<>();
        for (JsonNode block : system) {
            if (!block.path("type").asText("").equals("text")) {
                throw new TranslationException("\"system\" may hold only text blocks");
            }
            texts.add(block.path("text").asText(""));
        }
        return String.join("\n\n", texts);
    }

    // ---- messages -----------------------------------------------------------------------------------

    private static void messages(JsonNode in, ArrayNode out, Set<String> dropped) throws TranslationException {
        if (!in.isArray() || in.isEmpty()) {
            throw new TranslationException("\"messages\" must be a non-empty array");
        }
        for (int i = 0; i < in.size(); i++) {
            JsonNode m = in.get(i);
            String role = m.path("role").asText("");
            if (!role.equals("user") && !role.equals("assistant")) {
                throw new TranslationException("messages[" + i + "] has role '" + role
                        + "': a Messages request takes user and assistant turns only (the system prompt goes in \"system\")");
            }
            JsonNode content = m.get("content");
            if (content == null || !(content.isTextual() || content.isArray())) {
                throw new TranslationException("messages[" + i + "].content must be a string or an array of content blocks");
            }
            if (role.equals("user")) {
                user(content, i, out);
            } else {
                assistant(content, i, out, dropped);
            }
        }
    }

    /** Tool messages first, then the rest of the turn as one user message (a plain string when it is one text). */
    private static void user(JsonNode content, int i, ArrayNode out) throws TranslationException {
        if (content.isTextual()) {
            out.addObject().put("role", "user").put("content", content.asText());
            return;
        }
        if (content.isEmpty()) {
            throw new TranslationException("messages[" + i + "].content is empty");
        }
        ArrayNode parts = F.arrayNode();
        for (JsonNode block : content) {
            String type = block.path("type").asText("");
            switch (type) {
                case "tool_result" -> out.add(toolMessage(block, i));
                case "text" -> parts.addObject().put("type", "text").put("text", block.path("text").asText(""));
                case "image" -> parts.add(imagePart(block.path("source"), i));
                default -> throw unsupported(type, i, "text, image and tool_result");
            }
        }
        if (parts.isEmpty()) {
            return;
        }
        ObjectNode message = out.addObject().put("role", "user");
        if (parts.size() == 1 && parts.get(0).path("type").asText().equals("text")) {
            message.put("content", parts.get(0).get("text").asText());
        } else {
            message.set("content", parts);
        }
    }

    /** Text joined into {@code content} (null when there are only tool calls); thinking is dropped. */
    private static void assistant(JsonNode content, int i, ArrayNode out, Set<String> dropped) throws TranslationException {
        if (content.isTextual()) {
            out.addObject().put("role", "assistant").put("content", content.asText());
            return;
        }
        StringBuilder text = null;
        ArrayNode calls = F.arrayNode();
        for (JsonNode block : content) {
            String type = block.path("type").asText("");
            switch (type) {
                case "text" -> {
                    text = (text == null ? new StringBuilder() : text).append(block.path("text").asText(""));
                    if (block.hasNonNull("citations")) {
                        dropped.add("citations");
                    }
                }
                case "tool_use" -> calls.add(toolCall(block, i));
                case "thinking", "redacted_thinking" -> dropped.add("thinking");
                default -> throw unsupported(type, i, "text, tool_use and thinking");
            }
        }
        if (text == null && calls.isEmpty()) {
            return; // only thinking: nothing a GPT model can read
        }
        ObjectNode message = out.addObject().put("role", "assistant");
        if (text == null) {
            message.putNull("content");
        } else {
            message.put("content", text.toString());
        }
        if (!calls.isEmpty()) {
            message.set("tool_calls", calls);
        }
    }

    private static TranslationException unsupported(String type, int i, String supported) {
        String what = type.isEmpty() ? "a block without a type" : "a '" + type + "' block";
        return new TranslationException("messages[" + i + "] has " + what
                + ", which GPT models cannot take through this router (" + supported + " only)");
    }

    private static ObjectNode toolCall(JsonNode block, int i) throws TranslationException {
        String id = block.path("id").asText("");
        String name = block.path("name").asText("");
        if (id.isEmpty() || name.isEmpty()) {
            throw new TranslationException("messages[" + i + "] has a tool_use block without id or name");
        }
        JsonNode input = block.get("input");
        if (input != null && !input.isNull() && !input.isObject()) {
            throw new TranslationException("messages[" + i + "] has a tool_use block whose input is not a JSON object");
        }
        ObjectNode call = F.objectNode();
        call.put("id", id);
        call.put("type", "function");
        ObjectNode fn = call.putObject("function");
        fn.put("name", name);
        fn.put("arguments", input == null || input.isNull() ? "{}" : input.toString());
        return call;
    }

    private static ObjectNode toolMessage(JsonNode block, int i) throws TranslationException {
        String id = block.path("tool_use_id").asText("");
        if (id.isEmpty()) {
            throw new TranslationException("messages[" + i + "] has a tool_result block without tool_use_id");
        }
        String text = toolResultText(block.get("content"), i);
        ObjectNode m = F.objectNode();
        m.put("role", "tool");
        m.put("tool_call_id", id);
        m.put("content", block.path("is_error").asBoolean(false) ? TOOL_ERROR_PREFIX + text : text);
        return m;
    }

    private static String toolResultText(JsonNode content, int i) throws TranslationException {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (!content.isArray()) {
            throw new TranslationException("messages[" + i + "] has a tool_result whose content is neither a string nor an array of blocks");
        }
        List<String> texts = new ArrayList<>();
        for (JsonNode block : content) {
            String type = block.path("type").asText("");
            if (!type.equals("text")) {
                throw new TranslationException("messages[" + i + "] has a tool_result holding a block of type '" + type
                        + "': an OpenAI tool message holds text only (send images in a user turn instead)");
            }
            texts.add(block.path("text").asText(""));
        }
        return String.join("\n\n", texts);
    }

    /** A base64 source becomes a data URL; a url source is passed as it is. */
    static ObjectNode imagePart(JsonNode source, int i) throws TranslationException {
        String kind = source.path("type").asText("");
        String url = switch (kind) {
            case "base64" -> {
                String mediaType = source.path("media_type").asText("");
                String data = source.path("data").asText("");
                if (mediaType.isEmpty() || data.isEmpty()) {
                    throw new TranslationException("messages[" + i + "] has a base64 image without media_type or data");
                }
                yield "data:" + mediaType + ";base64," + data;
            }
            case "url" -> source.path("url").asText("");
            default -> throw new TranslationException("messages[" + i + "] has an image with source type '" + kind
                    + "', which GPT models cannot take through this router (base64 and url only)");
        };
        if (url.isEmpty()) {
            throw new TranslationException("messages[" + i + "] has a url image without a url");
        }
        ObjectNode part = F.objectNode();
        part.put("type", "image_url");
        part.putObject("image_url").put("url", url);
        return part;
    }

    // ---- sampling, stop, tools --------------------------------------------------------------------------

    /** Copies a number as it is (Anthropic's ranges fit inside OpenAI's); anything else is dropped. */
    private static void copyNumber(JsonNode request, String name, ObjectNode out, Set<String> dropped) {
        JsonNode v = request.get(name);
        if (v == null || v.isNull()) {
            return;
        }
        if (v.isNumber()) {
            out.set(name, v);
        } else {
            dropped.add(name);
        }
    }

    private static void stop(JsonNode stop, ObjectNode out) throws TranslationException {
        if (stop == null || stop.isNull()) {
            return;
        }
        if (!stop.isArray()) {
            throw new TranslationException("\"stop_sequences\" must be an array of strings");
        }
        if (stop.size() > MAX_STOP_SEQUENCES) {
            throw new TranslationException("\"stop_sequences\" has " + stop.size() + " entries; GPT models take at most "
                    + MAX_STOP_SEQUENCES);
        }
        ArrayNode seq = F.arrayNode();
        for (JsonNode s : stop) {
            if (!s.isTextual()) {
                throw new TranslationException("\"stop_sequences\" must be an array of strings");
            }
            seq.add(s.asText());
        }
        if (!seq.isEmpty()) {
            out.set("stop", seq);
        }
    }

    /** Custom tools as functions; tool_choice and parallel use only go with tools (OpenAI refuses them alone). */
    private static void tools(JsonNode request, ObjectNode out) throws TranslationException {
        JsonNode tools = request.get("tools");
        if (tools != null && !tools.isNull() && !tools.isArray()) {
            throw new TranslationException("\"tools\" must be an array");
        }
        JsonNode choice = toolChoice(request.get("tool_choice"));
        if (tools == null || tools.isNull() || tools.isEmpty()) {
            return;
        }
        ArrayNode t = out.putArray("tools");
        for (int i = 0; i < tools.size(); i++) {
            t.add(function(tools.get(i), i));
        }
        if (choice != null) {
            out.set("tool_choice", choice);
        }
        if (request.path("tool_choice").path("disable_parallel_tool_use").asBoolean(false)) {
            out.put("parallel_tool_calls", false);
        }
    }

    private static ObjectNode function(JsonNode tool, int i) throws TranslationException {
        String type = tool.path("type").asText("custom");
        if (!type.equals("custom")) {
            throw new TranslationException("tools[" + i + "] is a '" + type
                    + "' tool, which runs on Anthropic's side and which GPT models cannot run (custom tools only)");
        }
        String name = tool.path("name").asText("");
        if (name.isEmpty()) {
            throw new TranslationException("tools[" + i + "] has no name");
        }
        ObjectNode f = F.objectNode();
        f.put("type", "function");
        ObjectNode fn = f.putObject("function");
        fn.put("name", name);
        if (tool.path("description").isTextual()) {
            fn.put("description", tool.get("description").asText());
        }
        if (tool.path("input_schema").isObject()) {
            fn.set("parameters", tool.get("input_schema").deepCopy());
        }
        return f;
    }

    private static JsonNode toolChoice(JsonNode c) throws TranslationException {
        if (c == null || c.isNull()) {
            return null;
        }
        if (!c.isObject()) {
            throw new TranslationException("tool_choice must be an object such as {\"type\":\"auto\"}");
        }
        String type = c.path("type").asText("");
        return switch (type) {
            case "auto", "none" -> TextNode.valueOf(type);
            case "any" -> TextNode.valueOf("required");
            case "tool" -> {
                String name = c.path("name").asText("");
                if (name.isEmpty()) {
                    throw new TranslationException("tool_choice of type 'tool' needs a name");
                }
                ObjectNode named = F.objectNode();
                named.put("type", "function");
                named.putObject("function").put("name", name);
                yield named;
            }
            default -> throw new TranslationException("tool_choice type '" + type + "' is not one of auto, any, tool, none");
        };
    }
}
