package io.ironruntime.resilience;

import java.time.Duration;

/**
 * How long a provider call may take, phase by phase; each ends in a provider-shaped 504 (or an error
 * event when a stream already started).
 *
 * @param connect   to open the connection (TCP and TLS)
 * @param firstByte from sending the request to the response head (a non-streamed answer arrives
 *                  whole, so this bounds its generation too)
 * @param idle      between two stream events (or two pieces of a body)
 * @param total     the whole exchange, retries and their waits included
 */
public record Timeouts(Duration connect, Duration firstByte, Duration idle, Duration total) {
    public static final Timeouts DEFAULTS = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(120),
            Duration.ofSeconds(120), Duration.ofMinutes(15));

    public Timeouts {
        for (Duration d : new Duration[] {connect, firstByte, idle, total}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("timeouts must be positive");
            }
        }
    }

    /** A duration as users write it in settings and read it in messages: {@code 0.5}, {@code 120}. */
    public static String seconds(Duration d) {
        return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
    }

    /** The longest a provider connection may be silent while a call is running. */
    public Duration longestSilence() {
        return firstByte.compareTo(idle) >= 0 ? firstByte : idle;
    }
}
