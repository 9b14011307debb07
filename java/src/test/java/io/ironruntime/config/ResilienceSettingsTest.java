package io.ironruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.resilience.CircuitSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ResilienceSettingsTest {
    private static ResilienceConfig read(String json) {
        return RouterConfigReader.fromJson(json).resilience();
    }

    private static String error(String json) {
        return assertThrows(ConfigException.class, () -> read(json)).getMessage();
    }

    @Test
    void defaults() {
        ResilienceConfig c = read("{}");
        assertEquals(CircuitSettings.DEFAULTS, c.circuit());
        assertEquals(2, c.maxRetries());
        assertEquals(1024, c.maxInFlight());
        assertEquals(Duration.ofSeconds(30), c.queueTimeout());
        assertEquals(Duration.ofSeconds(10), c.timeouts().connect());
        assertEquals(Duration.ofSeconds(120), c.timeouts().firstByte());
        assertEquals(Duration.ofSeconds(120), c.timeouts().idle());
        assertEquals(Duration.ofMinutes(15), c.timeouts().total());
        assertTrue(!c.rateLimits().any());
    }

    @Test
    void everySettingIsRead() {
        ResilienceConfig c = read("{\"circuit_breaker\":{\"failure_threshold\":3,\"failure_rate\":0.25,\"window\":8,"
                + "\"minimum_calls\":4,\"recovery_timeout\":1.5,\"half_open_probes\":2},\"max_retries\":0,"
                + "\"retry_backoff\":{\"base_delay\":0.1,\"max_delay\":2,\"max_retry_after\":5},"
                + "\"rate_limits\":{\"rpm\":500,\"tpm\":200000},\"max_in_flight\":8,\"queue_timeout\":0,"
                + "\"connect_timeout\":1,\"first_byte_timeout\":2,\"idle_timeout\":3,\"total_timeout\":4}");
        assertEquals(new CircuitSettings(3, 0.25, 8, 4, Duration.ofMillis(1500), 2), c.circuit());
        assertEquals(0, c.maxRetries());
        assertEquals(Duration.ofMillis(100), c.backoff().base());
        assertEquals(Duration.ofSeconds(2), c.backoff().cap());
        assertEquals(Duration.ofSeconds(5), c.backoff().maxHonoured());
        assertEquals(500, c.rateLimits().rpm());
        assertEquals(200_000, c.rateLimits().tpm());
        assertEquals(8, c.maxInFlight());
        assertEquals(Duration.ZERO, c.queueTimeout());
        assertEquals(Duration.ofSeconds(4), c.timeouts().total());
        assertEquals(Duration.ofSeconds(3), c.timeouts().idle());
    }

    @Test
    void circuitBreakerFalseTurnsItOffAndReadTimeoutSetsFirstByteAndIdle() {
        assertNull(read("{\"circuit_breaker\":false}").circuit());
        assertEquals(CircuitSettings.DEFAULTS, read("{\"circuit_breaker\":true}").circuit());
        ResilienceConfig c = read("{\"read_timeout\":0.5,\"idle_timeout\":7}");
        assertEquals(Duration.ofMillis(500), c.timeouts().firstByte());
        assertEquals(Duration.ofSeconds(7), c.timeouts().idle(), "an explicit idle_timeout wins");
    }

    @Test
    void mistakesAreNamed() {
        assertEquals("circuit_breaker['failure_threshold'] must be between 1 and 1000000, got 0",
                error("{\"circuit_breaker\":{\"failure_threshold\":0}}"));
        assertTrue(error("{\"circuit_breaker\":{\"treshold\":3}}").contains("unknown setting 'treshold'"));
        assertTrue(error("{\"circuit_breaker\":\"on\"}").startsWith("circuit_breaker must be a mapping"));
        assertTrue(error("{\"circuit_breaker\":{\"failure_rate\":0}}").contains("failure_rate"));
        assertTrue(error("{\"circuit_breaker\":{\"window\":5,\"minimum_calls\":6}}").contains("minimum_calls"));
        assertTrue(error("{\"max_retries\":11}").startsWith("max_retries must be between 0 and 10"));
        assertTrue(error("{\"rate_limits\":{\"rpm\":0}}").startsWith("rate_limits['rpm'] must be between 1"));
        assertTrue(error("{\"rate_limits\":{\"rps\":5}}").contains("unknown setting 'rps'"));
        assertTrue(error("{\"retry_backoff\":{\"base_delay\":2,\"max_delay\":1}}").contains("max_delay"));
        assertTrue(error("{\"queue_timeout\":-1}").startsWith("queue_timeout must be a non-negative number"));
        assertTrue(error("{\"total_timeout\":0}").startsWith("total_timeout must be a positive number"));
        assertTrue(error("{\"max_in_flight\":0}").startsWith("max_in_flight must be between 1"));
    }
}
