package io.ironruntime.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.resilience.Backoff;
import io.ironruntime.resilience.CircuitSettings;
import io.ironruntime.resilience.RateLimits;
import io.ironruntime.resilience.Timeouts;
import java.time.Duration;
import java.util.Set;

/**
 * Reads and validates the timeouts ({@code connect_timeout}, {@code first_byte_timeout},
 * {@code idle_timeout}, {@code total_timeout}; {@code read_timeout} sets the first-byte and idle ones
 * together), {@code circuit_breaker}, {@code max_retries}, {@code retry_backoff}, {@code rate_limits},
 * {@code max_in_flight} and {@code queue_timeout}.
 */
final class ResilienceSettings {
    static final Set<String> CIRCUIT_KEYS = Set.of("failure_threshold", "failure_rate", "window", "minimum_calls",
            "recovery_timeout", "half_open_probes");
    static final Set<String> BACKOFF_KEYS = Set.of("base_delay", "max_delay", "max_retry_after");
    static final Set<String> RATE_KEYS = Set.of("rpm", "tpm");

    private ResilienceSettings() {
    }

    static ResilienceConfig read(RouterConfigReader.Settings s) {
        return new ResilienceConfig(circuit(s), (int) s.integer("max_retries", ResilienceConfig.DEFAULT_MAX_RETRIES, 0, 10),
                backoff(s), rateLimits(s), (int) s.integer("max_in_flight", ResilienceConfig.DEFAULT_MAX_IN_FLIGHT, 1, 100_000),
                s.seconds("queue_timeout", ResilienceConfig.DEFAULT_QUEUE_TIMEOUT.toMillis() / 1000.0, true), timeouts(s));
    }

    private static Timeouts timeouts(RouterConfigReader.Settings s) {
        Timeouts d = Timeouts.DEFAULTS;
        JsonNode read = s.node("read_timeout");
        double silence = read == null ? -1 : seconds(s.seconds("read_timeout", 1));
        return new Timeouts(s.seconds("connect_timeout", seconds(d.connect())),
                s.seconds("first_byte_timeout", silence > 0 ? silence : seconds(d.firstByte())),
                s.seconds("idle_timeout", silence > 0 ? silence : seconds(d.idle())),
                s.seconds("total_timeout", seconds(d.total())));
    }

    private static CircuitSettings circuit(RouterConfigReader.Settings s) {
        JsonNode n = s.node("circuit_breaker");
        if (n == null || (n.isBoolean() && n.asBoolean())) {
            return CircuitSettings.DEFAULTS;
        }
        if (n.isBoolean()) {
            return null;
        }
        RouterConfigReader.Settings c = s.nested("circuit_breaker", CIRCUIT_KEYS);
        CircuitSettings d = CircuitSettings.DEFAULTS;
        int window = (int) c.integer("window", d.window(), 1, 10_000);
        try {
            return new CircuitSettings((int) c.integer("failure_threshold", d.failureThreshold(), 1, 1_000_000),
                    c.number("failure_rate", d.failureRate(), 0, 1.0), window,
                    (int) c.integer("minimum_calls", Math.min(d.minimumCalls(), window), 1, window),
                    c.seconds("recovery_timeout", seconds(d.recoveryTimeout())),
                    (int) c.integer("half_open_probes", d.halfOpenProbes(), 1, 1_000));
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            // CircuitSettings names the setting first ("minimum_calls must be ..."): name it as the user wrote it.
            String m = e.getMessage();
            int space = m.indexOf(' ');
            throw new ConfigException("circuit_breaker['" + m.substring(0, space) + "']" + m.substring(space));
        }
    }

    private static Backoff backoff(RouterConfigReader.Settings s) {
        RouterConfigReader.Settings b = s.nested("retry_backoff", BACKOFF_KEYS);
        Backoff d = Backoff.DEFAULTS;
        if (b == null) {
            return d;
        }
        Duration base = b.seconds("base_delay", seconds(d.base()), true);
        Duration cap = b.seconds("max_delay", Math.max(seconds(d.cap()), seconds(base)), true);
        if (cap.compareTo(base) < 0) {
            throw new ConfigException("retry_backoff['max_delay'] must not be below retry_backoff['base_delay']");
        }
        return new Backoff(base, cap, b.seconds("max_retry_after", seconds(d.maxHonoured()), true));
    }

    private static RateLimits rateLimits(RouterConfigReader.Settings s) {
        RouterConfigReader.Settings r = s.nested("rate_limits", RATE_KEYS);
        if (r == null) {
            return RateLimits.NONE;
        }
        return new RateLimits(r.integer("rpm", 0, 1, 1_000_000_000L), r.integer("tpm", 0, 1, 10_000_000_000L));
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }
}
