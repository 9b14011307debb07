package io.ironruntime.resilience;

import java.time.Duration;

/**
 * How a circuit breaker decides ({@code LlmRouter(circuit_breaker={...})}).
 *
 * @param failureThreshold   consecutive failures that open the circuit
 * @param failureRate        the share of failures among the last {@code window} calls that opens it (0..1]
 * @param window             how many recent calls the failure rate is taken over
 * @param minimumCalls       the rate counts only once the window holds at least this many calls
 * @param recoveryTimeout    how long the circuit stays open before probes may go
 * @param halfOpenProbes     probe calls let through while half-open; all must succeed to close
 */
public record CircuitSettings(int failureThreshold, double failureRate, int window, int minimumCalls,
        Duration recoveryTimeout, int halfOpenProbes) {

    public static final CircuitSettings DEFAULTS = new CircuitSettings(5, 0.5, 20, 10, Duration.ofSeconds(30), 3);

    public CircuitSettings {
        if (failureThreshold < 1) {
            throw new IllegalArgumentException("failure_threshold must be at least 1, got " + failureThreshold);
        }
        if (!(failureRate > 0 && failureRate <= 1)) {
            throw new IllegalArgumentException("failure_rate must be a fraction above 0 and at most 1, got " + failureRate);
        }
        if (window < 1 || window > 10_000) {
            throw new IllegalArgumentException("window must be between 1 and 10000 calls, got " + window);
        }
        if (minimumCalls < 1 || minimumCalls > window) {
            throw new IllegalArgumentException("minimum_calls must be between 1 and window (" + window + "), got " + minimumCalls);
        }
        if (recoveryTimeout.isNegative() || recoveryTimeout.isZero() || recoveryTimeout.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("recovery_timeout must be a positive number of seconds (at most a day)");
        }
        if (halfOpenProbes < 1 || halfOpenProbes > 1_000) {
            throw new IllegalArgumentException("half_open_probes must be between 1 and 1000, got " + halfOpenProbes);
        }
    }
}
