package io.ironruntime.resilience;

/**
 * {@code LlmRouter(rate_limits={"rpm": 500, "tpm": 200000})}: 0 leaves that limit off.
 *
 * @param rpm requests per minute sent to the providers
 * @param tpm tokens per minute (input estimate plus output bound up front, corrected from usage)
 */
public record RateLimits(long rpm, long tpm) {
    public static final RateLimits NONE = new RateLimits(0, 0);

    public RateLimits {
        if (rpm < 0 || tpm < 0) {
            throw new IllegalArgumentException("rate limits must not be negative");
        }
    }

    public boolean any() {
        return rpm > 0 || tpm > 0;
    }
}
