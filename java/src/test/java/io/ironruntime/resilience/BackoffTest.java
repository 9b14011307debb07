package io.ironruntime.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Backoff B = Backoff.DEFAULTS;

    @Test
    void fullJitterStaysUnderADoublingCeilingAndTheCapAndSpreadsOverIt() {
        SplittableRandom random = new SplittableRandom(7);
        for (int attempt = 1; attempt <= 40; attempt++) {
            long ceiling = Math.min(Duration.ofMillis(500).toNanos() << Math.min(attempt - 1, 30), Duration.ofSeconds(8).toNanos());
            long max = 0;
            long min = Long.MAX_VALUE;
            for (int i = 0; i < 2_000; i++) {
                long w = B.jitterNanos(attempt, random);
                assertTrue(w >= 0 && w <= ceiling, "attempt " + attempt + ": " + w);
                max = Math.max(max, w);
                min = Math.min(min, w);
            }
            assertTrue(max > ceiling * 0.9 && min < ceiling * 0.1, "spread over [0, ceiling] at attempt " + attempt);
        }
    }

    @Test
    void whatTheProviderAskedForWinsUnlessItIsTooLong() {
        SplittableRandom random = new SplittableRandom(1);
        assertEquals(2_000_000_000L, B.waitNanos(1, 2_000_000_000L, random));
        assertEquals(-1, B.waitNanos(1, Duration.ofSeconds(61).toNanos(), random), "not retried: the client gets the 429");
        assertTrue(B.waitNanos(2, -1, random) <= Duration.ofSeconds(1).toNanos());
    }

    @Test
    void readsRetryAfterMsSecondsAndHttpDates() {
        long now = java.time.Instant.parse("2026-11-21T10:00:00Z").toEpochMilli();
        assertEquals(1_500_000_000L, Backoff.asked("1500", "9", now), "retry-after-ms first");
        assertEquals(2_000_000_000L, Backoff.asked(null, "2", now));
        assertEquals(250_000_000L, Backoff.asked(null, "0.25", now));
        assertEquals(5_000_000_000L, Backoff.asked(null, "Sat, 21 Nov 2026 10:00:05 GMT", now));
        assertEquals(0, Backoff.asked(null, "Sat, 21 Nov 2026 09:00:00 GMT", now), "a date in the past: now");
        assertEquals(-1, Backoff.asked(null, "soon", now));
        assertEquals(-1, Backoff.asked("x", null, now));
        assertEquals(-1, Backoff.asked(null, "-3", now));
    }
}
