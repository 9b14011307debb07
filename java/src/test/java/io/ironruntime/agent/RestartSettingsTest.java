package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.config.ConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestartSettingsTest {
    @Test
    void policiesParseTheirWireNamesAndThePythonSpelling() {
        assertEquals(RestartPolicy.NEVER, RestartPolicy.parse("never"));
        assertEquals(RestartPolicy.ON_FAILURE, RestartPolicy.parse("on-failure"));
        assertEquals(RestartPolicy.ON_FAILURE, RestartPolicy.parse("on_failure"));
        assertEquals(RestartPolicy.ON_FAILURE, RestartPolicy.parse(" On-Failure "));
        assertEquals(RestartPolicy.ALWAYS, RestartPolicy.parse("ALWAYS"));
        assertEquals("on-failure", RestartPolicy.ON_FAILURE.wireName());
        ConfigException e = assertThrows(ConfigException.class, () -> RestartPolicy.parse("sometimes"));
        assertEquals("restart must be 'never', 'on-failure' or 'always', got 'sometimes'", e.getMessage());
        assertTrue(assertThrows(ConfigException.class, () -> RestartPolicy.parse(null)).getMessage().endsWith("got None"));
    }

    @Test
    void defaults() {
        RestartSettings s = RestartSettings.of(RestartPolicy.ON_FAILURE, RestartSettings.DEFAULT_MAX_RESTARTS);
        assertEquals(3, s.maxRestarts());
        assertEquals(Duration.ofSeconds(60), s.window());
        assertEquals(Duration.ofMillis(500), s.baseDelay());
        assertEquals(Duration.ofSeconds(30), s.maxDelay());
        assertEquals(RestartPolicy.NEVER, RestartSettings.NEVER.policy());
    }

    @Test
    void invalidValuesNameThePythonKeyword() {
        Duration w = Duration.ofSeconds(60);
        Duration b = Duration.ofMillis(500);
        Duration m = Duration.ofSeconds(30);
        assertMessage("max_restarts must be between 0 and 1000, got -1",
                () -> new RestartSettings(RestartPolicy.ALWAYS, -1, w, b, m));
        assertMessage("max_restarts must be between 0 and 1000, got 1001",
                () -> new RestartSettings(RestartPolicy.ALWAYS, 1_001, w, b, m));
        assertMessage("restart_window must be more than 0 and at most 86400 seconds, got 0.0",
                () -> new RestartSettings(RestartPolicy.ALWAYS, 3, Duration.ZERO, b, m));
        assertMessage("restart_delay must be between 0 and 86400 seconds, got -1.0",
                () -> new RestartSettings(RestartPolicy.ALWAYS, 3, w, Duration.ofSeconds(-1), m));
        assertMessage("restart_max_delay must be between 0 and 86400 seconds, got 86401.0",
                () -> new RestartSettings(RestartPolicy.ALWAYS, 3, w, b, Duration.ofSeconds(86_401)));
        assertMessage("restart_max_delay must not be below restart_delay",
                () -> new RestartSettings(RestartPolicy.ALWAYS, 3, w, Duration.ofSeconds(5), Duration.ofSeconds(1)));
        assertMessage("restart_window must be a number of seconds, got None",
                () -> new RestartSettings(RestartPolicy.ALWAYS, 3, null, b, m));
        assertMessage("restart must be 'never', 'on-failure' or 'always', got None",
                () -> new RestartSettings(null, 3, w, b, m));
        new RestartSettings(RestartPolicy.ALWAYS, 0, Duration.ofMillis(1), Duration.ZERO, Duration.ZERO);
        new RestartSettings(RestartPolicy.ALWAYS, 1_000, Duration.ofDays(1), Duration.ofDays(1), Duration.ofDays(1));
    }

    private static void assertMessage(String message, org.junit.jupiter.api.function.Executable e) {
        assertEquals(message, assertThrows(ConfigException.class, e).getMessage());
    }

    @Test
    void statusesHaveLowerCaseWireNamesAndThreeEndedStates() {
        List<String> ended = new ArrayList<>();
        for (AgentStatus s : AgentStatus.values()) {
            assertEquals(s, AgentStatus.parse(s.wireName()));
            assertEquals(s.name().toLowerCase(java.util.Locale.ROOT), s.wireName());
            if (s.ended()) {
                ended.add(s.wireName());
            }
        }
        assertEquals(List.of("stopped", "completed", "failed"), ended);
        assertEquals(AgentStatus.RUNNING, AgentStatus.parse("Running"));
        assertFalse(AgentStatus.RESTARTING.ended());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AgentStatus.parse("dead"));
        assertEquals("unknown agent status 'dead': expected one of starting, running, paused, stopping, stopped,"
                + " completed, failed, restarting", e.getMessage());
    }
}
