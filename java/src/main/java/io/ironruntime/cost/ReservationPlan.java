package io.ironruntime.cost;

/**
 * The most a request can cost, as the amounts to ask a {@link BudgetLedger} for. Pure.
 *
 * <p>Input tokens are priced at the dearest rate any input token can be billed at (a cache write
 * costs more than plain input), output tokens at the output rate up to a bound: the client's own, or,
 * when it set none, the model's maximum. Without a client bound the request may also be granted less,
 * down to {@link #MIN_OUTPUT_TOKENS} of output; the router then sends the bound the grant pays for
 * ({@link #outputTokensFor}), so the provider stops before the budget is gone.
 *
 * @param inputCost     pico-dollars the input can cost at most
 * @param minimum       the least a grant must be for the request to be worth sending
 * @param wanted        the whole bound
 * @param outputCap     the output tokens {@code wanted} pays for
 * @param outputPerToken pico-dollars one token of the output bound costs (all completions together)
 * @param clientBound   true when the client set the output bound
 */
public record ReservationPlan(long inputCost, long outputPerToken, long minimum, long wanted, long outputCap,
        boolean clientBound) {
    /** The output bound assumed for a model whose maximum the pricing table does not give. */
    public static final long DEFAULT_OUTPUT_CAP = 4_096;
    /** A grant smaller than input plus this much output is refused rather than sent. */
    public static final long MIN_OUTPUT_TOKENS = 16;

    /**
     * @param clientBound the client's output bound per completion, or -1
     * @param choices how many completions are asked for: output is billed for each
     * @param producesOutput false for embeddings and other input-only endpoints
     */
    public static ReservationPlan of(ModelPrice price, long inputTokens, long clientBound, int choices,
            boolean producesOutput) {
        long inputRate = price.dearestInputPerToken();
        long inputCost = times(inputTokens, inputRate);
        long out = times(price.outputPerToken(), Math.max(1, choices)); // per token of the bound
        if (!producesOutput) {
            return new ReservationPlan(inputCost, out, inputCost, inputCost, 0, false);
        }
        if (clientBound >= 0) {
            long whole = plus(inputCost, times(clientBound, out));
            return new ReservationPlan(inputCost, out, whole, whole, clientBound, true);
        }
        long cap = price.maxOutputTokens() > 0 ? price.maxOutputTokens() : DEFAULT_OUTPUT_CAP;
        long least = plus(inputCost, times(Math.min(MIN_OUTPUT_TOKENS, cap), out));
        return new ReservationPlan(inputCost, out, least, plus(inputCost, times(cap, out)), cap, false);
    }

    /** The output tokens a grant of {@code granted} pico-dollars pays for (never above the cap). */
    public long outputTokensFor(long granted) {
        if (outputPerToken == 0) {
            return outputCap;
        }
        return Math.max(0, Math.min(outputCap, (granted - inputCost) / outputPerToken));
    }

    private static long times(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return (hi == 0 && lo >= 0) ? lo : Long.MAX_VALUE;
    }

    private static long plus(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }
}
