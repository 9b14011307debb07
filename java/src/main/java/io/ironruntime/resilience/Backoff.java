package io.ironruntime.resilience;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.random.RandomGenerator;

/**
 * How long to wait before retrying a provider call: exponential backoff with full jitter
 * (a uniform draw between zero and {@code base * 2^attempt}, capped), unless the provider said how
 * long ({@code retry-after-ms}, {@code Retry-After} in seconds or as an HTTP date), which wins.
 *
 * @param base the first attempt's ceiling
 * @param cap  no wait the router picks itself is longer
 * @param maxHonoured a provider asking for longer than this is not retried: its answer goes to the client
 */
public record Backoff(Duration base, Duration cap, Duration maxHonoured) {
    public static final Backoff DEFAULTS = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(8), Duration.ofSeconds(60));

    /** Nothing said: a full-jitter wait before retry number {@code attempt} (1 for the first retry). */
    public long jitterNanos(int attempt, RandomGenerator random) {
        long ceiling = base.toNanos() << Math.min(Math.max(attempt - 1, 0), 30);
        ceiling = Math.min(ceiling < 0 ? Long.MAX_VALUE : ceiling, cap.toNanos());
        return random.nextLong(ceiling + 1);
    }

    /**
     * The wait before retry {@code attempt}: what the provider asked for when it did, else jitter;
     * -1 when the provider asked for more than {@link #maxHonoured} (then the call is not retried).
     */
    public long waitNanos(int attempt, long askedNanos, RandomGenerator random) {
        if (askedNanos < 0) {
            return jitterNanos(attempt, random);
        }
        return askedNanos > maxHonoured.toNanos() ? -1 : askedNanos;
    }

    /**
     * What the provider asked for, in nanoseconds, or -1 when it said nothing readable:
     * {@code retry-after-ms} (OpenAI), else {@code Retry-After} as seconds (fractions allowed) or an
     * HTTP date (against {@code nowEpochMillis}).
     */
    public static long asked(String retryAfterMs, String retryAfter, long nowEpochMillis) {
        if (retryAfterMs != null) {
            try {
                double ms = Double.parseDouble(retryAfterMs.trim());
                if (ms >= 0 && Double.isFinite(ms)) {
                    return (long) (ms * 1_000_000);
                }
            } catch (NumberFormatException e) {
                // fall through to Retry-After
            }
        }
        if (retryAfter == null || retryAfter.isBlank()) {
            return -1;
        }
        String v = retryAfter.trim();
        try {
            double s = Double.parseDouble(v);
            return s >= 0 && Double.isFinite(s) ? (long) (s * 1e9) : -1;
        } catch (NumberFormatException e) {
            try {
                long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
                return Math.max(0, at - nowEpochMillis) * 1_000_000;
            } catch (DateTimeParseException d) {
                return -1;
            }
        }
    }
}
