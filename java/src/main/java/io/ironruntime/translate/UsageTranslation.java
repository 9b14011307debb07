package io.ironruntime.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Token counts in each provider's words. OpenAI's {@code prompt_tokens} include the cached ones
 * ({@code prompt_tokens_details.cached_tokens}); Anthropic's {@code input_tokens} exclude the tokens read
 * from or written to the cache, which it counts apart.
 */
public final class UsageTranslation {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private UsageTranslation() {
    }

    /** Anthropic {@code usage} as OpenAI Chat {@code usage}. */
    public static ObjectNode toOpenAi(JsonNode usage) {
        long input = count(usage, "input_tokens");
        long cacheRead = count(usage, "cache_read_input_tokens");
        long cacheWrite = count(usage, "cache_creation_input_tokens");
        long output = count(usage, "output_tokens");
        ObjectNode out = F.objectNode();
        long prompt = input + cacheRead + cacheWrite;
        out.put("prompt_tokens", prompt);
        out.put("completion_tokens", output);
        out.put("total_tokens", prompt + output);
        if (usage != null && (usage.has("cache_read_input_tokens") || usage.has("cache_creation_input_tokens"))) {
            out.putObject("prompt_tokens_details").put("cached_tokens", cacheRead);
        }
        return out;
    }

    /** OpenAI Chat {@code usage} as Anthropic {@code usage}. */
    public static ObjectNode toAnthropic(JsonNode usage) {
        long prompt = count(usage, "prompt_tokens");
        JsonNode details = usage == null ? null : usage.get("prompt_tokens_details");
        long cached = count(details, "cached_tokens");
        ObjectNode out = F.objectNode();
        out.put("input_tokens", Math.max(0, prompt - cached));
        if (details != null && details.has("cached_tokens")) {
            out.put("cache_read_input_tokens", cached);
        }
        out.put("output_tokens", count(usage, "completion_tokens"));
        return out;
    }

    private static long count(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return v != null && v.canConvertToLong() ? Math.max(0, v.asLong()) : 0;
    }
}
