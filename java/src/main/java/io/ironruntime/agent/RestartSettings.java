package io.ironruntime.agent;

import io.ironruntime.config.ConfigException;
import java.time.Duration;

/**
 * How an agent is restarted: the policy, Erlang-style intensity (at most {@code maxRestarts} restarts
 * within {@code window}, else the agent ends) and exponential backoff between restarts.
 * Validated here, once, with messages naming the Python keyword.
 *
 * @param maxRestarts {@code max_restarts}: 0..1000
 * @param window      {@code restart_window}: the intensity period (Erlang's {@code period}); also how long
 *                    a run must last to count as stable, which resets the backoff
 * @param baseDelay   {@code restart_delay}: the wait before the first of a series of restarts
 * @param maxDelay    {@code restart_max_delay}: no wait is longer
 */
public record RestartSettings(RestartPolicy policy, int maxRestarts, Duration window, Duration baseDelay,
        Duration maxDelay) {
    public static final int DEFAULT_MAX_RESTARTS = 3;
    public static final int MAX_MAX_RESTARTS = 1_000;
    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(60);
    public static final Duration DEFAULT_BASE_DELAY = Duration.ofMillis(500);
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofSeconds(30);
    /** Longer windows or waits are almost certainly a unit mistake (milliseconds given as seconds). */
    static final Duration LONGEST = Duration.ofDays(1);
    public static final RestartSettings NEVER = of(RestartPolicy.NEVER, DEFAULT_MAX_RESTARTS);

    public RestartSettings {
        if (policy == null) {
            throw new ConfigException("restart must be 'never', 'on-failure' or 'always', got None");
        }
        if (maxRestarts < 0 || maxRestarts > MAX_MAX_RESTARTS) {
            throw new ConfigException("max_restarts must be between 0 and " + MAX_MAX_RESTARTS + ", got " + maxRestarts);
        }
        requireBetween("restart_window", window, Duration.ofMillis(1), LONGEST);
        requireBetween("restart_delay", baseDelay, Duration.ZERO, LONGEST);
        requireBetween("restart_max_delay", maxDelay, Duration.ZERO, LONGEST);
        if (maxDelay.compareTo(baseDelay) < 0) {
            throw new ConfigException("restart_max_delay must not be below restart_delay");
        }
    }

    /** A policy and a limit with the default window (60 s) and backoff (0.5 s doubling up to 30 s). */
    public static RestartSettings of(RestartPolicy policy, int maxRestarts) {
        return new RestartSettings(policy, maxRestarts, DEFAULT_WINDOW, DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY);
    }

    private static void requireBetween(String name, Duration d, Duration min, Duration max) {
        if (d == null) {
            throw new ConfigException(name + " must be a number of seconds, got None");
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new ConfigException(name + " must be " + (min.isZero() ? "between 0 and " : "more than 0 and at most ")
                    + max.toSeconds() + " seconds, got " + d.toMillis() / 1000.0);
        }
    }
}
