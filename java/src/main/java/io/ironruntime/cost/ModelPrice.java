package io.ironruntime.cost;

/**
 * What one model costs, in pico-dollars (1e-12 USD) per token. Provider prices are fractions of a
 * micro-dollar per token ($0.15 per million tokens is 0.15 micro-dollars), so pico-dollars keep
 * every published price an exact integer; a long holds 9.2 million dollars of them.
 *
 * @param maxOutputTokens the model's output limit, or 0 when unknown
 */
public record ModelPrice(String model, long inputPerToken, long outputPerToken, long cacheReadPerToken,
        long cacheWritePerToken, int maxOutputTokens) {

    /** The exact cost of {@code usage} in pico-dollars. */
    public long cost(Usage usage) {
        return Math.addExact(
                Math.addExact(Math.multiplyExact(usage.inputTokens(), inputPerToken),
                        Math.multiplyExact(usage.outputTokens(), outputPerToken)),
                Math.addExact(Math.multiplyExact(usage.cacheReadTokens(), cacheReadPerToken),
                        Math.multiplyExact(usage.cacheWriteTokens(), cacheWritePerToken)));
    }
}
