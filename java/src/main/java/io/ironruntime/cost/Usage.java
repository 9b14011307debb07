package io.ironruntime.cost;

/**
 * Tokens of one request, split by how the provider bills them. Each count is billed at exactly one
 * price: {@code inputTokens} are the uncached input (OpenAI's prompt_tokens minus cached_tokens;
 * Anthropic's input_tokens), cache reads and cache writes are separate. {@code cacheWrite1hTokens} is
 * the part of the cache writes made with Anthropic's 1-hour lifetime, billed at its own price.
 */
public record Usage(long inputTokens, long cacheReadTokens, long cacheWriteTokens, long cacheWrite1hTokens,
        long outputTokens) {
    public static final Usage NONE = new Usage(0, 0, 0, 0);

    public Usage {
        if (inputTokens < 0 || cacheReadTokens < 0 || cacheWriteTokens < 0 || outputTokens < 0
                || cacheWrite1hTokens < 0 || cacheWrite1hTokens > cacheWriteTokens) {
            throw new IllegalArgumentException("token counts cannot be negative (and 1-hour writes are cache writes)");
        }
    }

    /** Usage without 1-hour cache writes. */
    public Usage(long inputTokens, long cacheReadTokens, long cacheWriteTokens, long outputTokens) {
        this(inputTokens, cacheReadTokens, cacheWriteTokens, 0, outputTokens);
    }

    /** All input the model read, however it was billed. */
    public long totalInputTokens() {
        return inputTokens + cacheReadTokens + cacheWriteTokens;
    }
}
