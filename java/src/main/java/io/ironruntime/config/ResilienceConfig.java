package io.ironruntime.config;

import io.ironruntime.resilience.Backoff;
import io.ironruntime.resilience.CircuitSettings;
import io.ironruntime.resilience.RateLimits;
import io.ironruntime.resilience.Timeouts;
import java.time.Duration;
import static io.ironruntime.resilience.Timeouts.seconds;

/**
 * How the router treats failing and busy providers.
 *
 * @param circuit      the circuit breaker's settings per upstream, or null when {@code circuit_breaker=False}
 * @param maxRetries   retries of one request before anything reached the client
 * @param backoff      the wait between attempts
 * @param rateLimits   requests and tokens per minute ({@link RateLimits#NONE} for none)
 * @param maxInFlight  provider calls running at once; later requests queue
 * @param queueTimeout how long a queued request waits for a slot before it gets 429
 * @param timeouts     connect, first byte, idle, total
 */
public record ResilienceConfig(CircuitSettings circuit, int maxRetries, Backoff backoff, RateLimits rateLimits,
        int maxInFlight, Duration queueTimeout, Timeouts timeouts) {

    public static final int DEFAULT_MAX_RETRIES = 2;
    public static final int DEFAULT_MAX_IN_FLIGHT = 1024;
    public static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(30);

    public static final ResilienceConfig DEFAULTS = new ResilienceConfig(CircuitSettings.DEFAULTS, DEFAULT_MAX_RETRIES,
            Backoff.DEFAULTS, RateLimits.NONE, DEFAULT_MAX_IN_FLIGHT, DEFAULT_QUEUE_TIMEOUT, Timeouts.DEFAULTS);

    /** One line for logs and the CLI banner. */
    @Override
    public String toString() {
        return "circuit breaker " + (circuit == null ? "off" : circuit.failureThreshold() + " failures/"
                + seconds(circuit.recoveryTimeout()) + " s") + ", retries " + maxRetries + ", rate limits "
                + (rateLimits.any() ? (rateLimits.rpm() > 0 ? "rpm " + rateLimits.rpm() + " " : "")
                        + (rateLimits.tpm() > 0 ? "tpm " + rateLimits.tpm() : "") : "none")
                + ", max in flight " + maxInFlight + ", timeouts connect " + seconds(timeouts.connect()) + " s / first byte "
                + seconds(timeouts.firstByte()) + " s / idle " + seconds(timeouts.idle()) + " s / total "
                + seconds(timeouts.total()) + " s";
    }
}
