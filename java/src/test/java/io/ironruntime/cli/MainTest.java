package io.ironruntime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(Map<String, String> env, String... args) {
        return Main.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void flagsAndEnvironmentBecomeSettings() {
        ObjectNode s = Main.settings(new String[] {"router", "--port", "8123", "--host=127.0.0.1",
                "--openai-base-url", "http://127.0.0.1:9", "--read-timeout", "2.5"},
                Map.of("OPENAI_API_KEY", "sk-env", "PATH", "/bin", "IRON_RUNTIME_TOKEN", "fixed-token-1234567890"));
        assertEquals(8123, s.get("port").asInt());
        assertEquals("http://127.0.0.1:9", s.get("openai_base_url").asText());
        assertEquals(2.5, s.get("read_timeout").asDouble());
        assertEquals("sk-env", s.at("/env/OPENAI_API_KEY").asText());
        assertTrue(s.at("/env/PATH").isMissingNode(), "only the key variables are passed on");
        assertEquals("fixed-token-1234567890", s.get("local_token").asText());
    }

    @Test
    void resilienceFlagsBecomeSettings() {
        ObjectNode s = Main.settings(new String[] {"router", "--rpm", "500", "--tpm=200000", "--max-retries", "0",
                "--circuit-breaker", "off", "--first-byte-timeout", "30", "--idle-timeout", "20", "--total-timeout", "600",
                "--max-in-flight", "64", "--queue-timeout", "5"}, Map.of());
        assertEquals(500, s.at("/rate_limits/rpm").asInt());
        assertEquals(200_000, s.at("/rate_limits/tpm").asInt());
        assertEquals(0, s.get("max_retries").asInt());
        assertEquals(false, s.get("circuit_breaker").asBoolean());
        assertEquals(30.0, s.get("first_byte_timeout").asDouble());
        assertEquals(64, s.get("max_in_flight").asInt());
        io.ironruntime.config.ResilienceConfig c = io.ironruntime.config.RouterConfigReader.fromJson(s.toString()).resilience();
        assertEquals("circuit breaker off, retries 0, rate limits rpm 500 tpm 200000, max in flight 64, timeouts connect"
                + " 10 s / first byte 30 s / idle 20 s / total 600 s", c.toString());
        assertThrows(io.ironruntime.config.ConfigException.class,
                () -> Main.settings(new String[] {"router", "--circuit-breaker", "maybe"}, Map.of()));
    }

    @Test
    void badInputIsOneClearLineAndExitCodeTwo() {
        assertEquals(2, run(Map.of(), "router", "--port", "eighty"));
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals("iron-runtime: error: --port must be a whole number, got 'eighty'\n", text);

        err.reset();
        assertEquals(2, run(Map.of("OPENAI_API_KEY", "sk-secret-in-env"), "router", "--server-url", "ftp://x"));
        String second = err.toString(StandardCharsets.UTF_8);
        assertTrue(second.startsWith("iron-runtime: error: server_url"), second);
        assertFalse(second.contains("sk-secret-in-env"));

        err.reset();
        assertEquals(2, run(Map.of(), "serve"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown command 'serve'"));
    }

    @Test
    void aTakenPortIsExitCodeOne() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertEquals(1, run(Map.of(), "router", "--port", Integer.toString(taken.getLocalPort())));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("address already in use"));
        }
    }

    @Test
    void versionAndHelp() {
        assertEquals(0, run(Map.of(), "--version"));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("iron-runtime "));
        assertEquals(0, run(Map.of(), "--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("usage: iron-runtime router"));
    }
}
