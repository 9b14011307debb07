package io.ironruntime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
