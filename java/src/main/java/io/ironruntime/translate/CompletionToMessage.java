package io.ironruntime.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;

/**
 * An OpenAI {@code chat.completion} as an Anthropic Messages response: pure, no I/O.
 * <p>
 * Only {@code choices[0]} is read (the router refuses {@code n > 1} before calling). The text becomes a
 * text block, a refusal a text block with {@code stop_reason: refusal}, and each function tool call a
 * {@code tool_use} block whose {@code input} is the parsed arguments. Missing fields give nulls, empty
 * content and zero usage, never an exception.
 * <p>
 * Arguments that are not a JSON object (a model can emit broken JSON; OpenAI passes it on as a string)
 * cannot be an Anthropic {@code input}, which SDKs and client code treat as an object. They become
 * {@code {"_unparsed_arguments": "<the raw string>"}}: the tool call still reaches the client, the raw text
 * is there to see, a tool that checks its arguments fails loudly instead of running with defaults, and the
 * block sent back in the next turn becomes valid arguments again.
 */
public final class CompletionToMessage {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    /** The one key of the {@code input} that carries arguments which are not a JSON object. */
    public static final String UNPARSED_ARGUMENTS = "_unparsed_arguments";
    /** Strict: two objects run together ({@code {..}{..}}, a known model slip) are not the first one. */
    private static final ObjectReader ARGUMENTS = Json.MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private CompletionToMessage() {
    }

    public static ObjectNode translate(JsonNode chatCompletion) {
        JsonNode c = chatCompletion == null ? F.missingNode() : chatCompletion;
        JsonNode choice = c.path("choices").path(0);
        JsonNode message = choice.path("message");
        ObjectNode out = F.objectNode();
        out.set("id", JsonValues.textOrNull(c.path("id")));
        out.put("type", "message");
        out.put("role", "assistant");
        out.set("model", JsonValues.textOrNull(c.path("model")));
        ArrayNode content = out.putArray("content");
        String text = text(message.path("content"));
        if (!text.isEmpty()) {
            content.add(textBlock(text));
        }
        JsonNode refusal = message.path("refusal");
        boolean refused = refusal.isTextual();
        if (refused) {
            content.add(textBlock(refusal.asText()));
        }
        JsonNode calls = message.path("tool_calls");
        for (JsonNode call : calls.isArray() ? calls : F.arrayNode()) {
            if (call.path("type").asText("function").equals("function")) {
                content.add(toolUse(call));
            }
        }
        JsonNode finish = choice.path("finish_reason");
        out.put("stop_reason", refused ? "refusal" : StopReasons.toAnthropic(finish.isTextual() ? finish.asText() : null));
        out.putNull("stop_sequence");
        out.set("usage", UsageTranslation.toAnthropic(c.get("usage")));
        return out;
    }

    /** A string content, or the text parts of an array content joined. */
    private static String text(JsonNode content) {
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder b = new StringBuilder();
        if (content.isArray()) {
            for (JsonNode part : content) {
                if (part.path("type").asText("").equals("text")) {
                    b.append(part.path("text").asText(""));
                }
            }
        }
        return b.toString();
    }

    private static ObjectNode textBlock(String text) {
        ObjectNode b = F.objectNode();
        b.put("type", "text");
        b.put("text", text);
        return b;
    }

    private static ObjectNode toolUse(JsonNode call) {
        JsonNode function = call.path("function");
        ObjectNode use = F.objectNode();
        use.put("type", "tool_use");
        use.set("id", JsonValues.textOrNull(call.path("id")));
        use.set("name", JsonValues.textOrNull(function.path("name")));
        use.set("input", input(function.path("arguments")));
        return use;
    }

    private static ObjectNode input(JsonNode arguments) {
        if (arguments.isObject()) {
            return (ObjectNode) arguments.deepCopy();
        }
        if (arguments.isMissingNode() || arguments.isNull()) {
            return F.objectNode();
        }
        String raw = arguments.isTextual() ? arguments.asText() : arguments.toString();
        if (raw.isBlank()) {
            return F.objectNode(); // a function without parameters
        }
        try {
            JsonNode parsed = ARGUMENTS.readTree(raw);
            if (parsed != null && parsed.isObject()) {
                return (ObjectNode) parsed;
            }
        } catch (JsonProcessingException e) {
            // kept raw below
        }
        return F.objectNode().put(UNPARSED_ARGUMENTS, raw);
    }
}
