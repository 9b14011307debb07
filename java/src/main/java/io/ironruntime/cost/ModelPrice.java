package io.ironruntime.cost;

/**
 * What one model costs, in pico-dollars (1e-12 USD) per token. Provider prices are fractions of a
 * micro-dollar per token ($0.15 per million tokens is 0.15 micro-dollars), so pico-dollars keep
 * every published price an exact integer; a long holds 9.2 million dollars of them.
 *
 * @param cacheWritePerToken   a prompt-cache write with the default (5-minute) lifetime
 * @param cacheWrite1hPerToken a cache write with Anthropic's 1-hour lifetime
 * @param maxOutputTokens      the model's output limit, or 0 when unknown
 * @param priority             OpenAI's priority-processing prices, or null when the table has none
 * @param flex                 OpenAI's flex-processing prices, or null when the table has none
 */
public record ModelPrice(String model, long inputPerToken, long outputPerToken, long cacheReadPerToken,
        long cacheWritePerToken, long cacheWrite1hPerToken, int maxOutputTokens, ModelPrice priority,
        ModelPrice flex) {

    /** A price without 1-hour cache writes (billed as 5-minute ones) and without service tiers. */
    public ModelPrice(String model, long inputPerToken, long outputPerToken, long cacheReadPerToken,
            long cacheWritePerToken, int maxOutputTokens) {
        this(model, inputPerToken, outputPerToken, cacheReadPerToken, cacheWritePerToken, cacheWritePerToken,
                maxOutputTokens, null, null);
    }

    /** The exact cost of {@code usage} in pico-dollars. */
    public long cost(Usage usage) {
        long write5m = usage.cacheWriteTokens() - usage.cacheWrite1hTokens();
        return Math.addExact(
                Math.addExact(Math.multiplyExact(usage.inputTokens(), inputPerToken),
                        Math.multiplyExact(usage.outputTokens(), outputPerToken)),
                Math.addExact(Math.multiplyExact(usage.cacheReadTokens(), cacheReadPerToken),
                        Math.addExact(Math.multiplyExact(write5m, cacheWritePerToken),
                                Math.multiplyExact(usage.cacheWrite1hTokens(), cacheWrite1hPerToken))));
    }

    /** The most one input token can cost, however it is billed (plain, cache read or cache write). */
    public long dearestInputPerToken() {
        return Math.max(Math.max(inputPerToken, cacheReadPerToken), Math.max(cacheWritePerToken, cacheWrite1hPerToken));
    }

    /**
     * The prices of an OpenAI service tier as the request or response names it ({@code priority},
     * {@code flex}); this price for any other tier or when the table has none for it.
     */
    public ModelPrice forTier(String serviceTier) {
        if ("priority".equals(serviceTier) && priority != null) {
            return priority;
        }
        if ("flex".equals(serviceTier) && flex != null) {
            return flex;
        }
        return this;
    }
}
