package io.ironruntime.cost;

/**
 * Tokens of one request, split by how the provider bills them. Each count is billed at exactly one
 * price: {@code inputTokens} are the uncached input (OpenAI's prompt_tokens minus cached_tokens;
 * Anthropic's input_tokens), cache reads and cache writes are separate.
 */
public record Usage(long inputTokens, long cacheReadTokens, long cacheWriteTokens, long outputTokens) {
    public static final Usage NONE = new Usage(0, 0, 0, 0);

    public Usage {
        if (inputTokens < 0 || cacheReadTokens < 0 || cacheWriteTokens < 0 || outputTokens < 0) {
            throw new IllegalArgumentException("token counts cannot be negative");
        }
    }

    /** All input the model read, however it was billed. */
    public long totalInputTokens() {
        return inputTokens + cacheReadTokens + cacheWriteTokens;
    }
}
