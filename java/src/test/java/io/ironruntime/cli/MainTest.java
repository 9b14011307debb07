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
    void loggingAndRetentionFlagsBecomeSettings() {
        ObjectNode s = Main.settings(new String[] {"router", "--verbose", "--event-retention-days", "7",
                "--log-level=debug"}, Map.of());
        assertEquals(true, s.get("verbose").asBoolean());
        assertEquals(7, s.get("event_retention_days").asInt());
        io.ironruntime.config.RouterConfig c = io.ironruntime.config.RouterConfigReader.fromJson(s.toString());
        assertTrue(c.verbose());
        assertEquals(io.ironruntime.config.LogLevel.DEBUG, c.logLevel());
        assertEquals(7, c.eventRetentionDays());
        assertFalse(Main.settings(new String[] {"router"}, Map.of()).has("verbose"));
    }

    @Test
    void badLoggingAndRetentionFlagsAreOneLineAndExitCodeTwo() {
        String[][] cases = {
            {"--event-retention-days", "0", "iron-runtime: error: event_retention_days must be between 1 and 3650, got 0\n"},
            {"--event-retention-days", "week", "iron-runtime: error: --event-retention-days must be a whole number, got 'week'\n"},
            {"--log-level", "loud", "iron-runtime: error: log_level must be 'debug', 'info', 'warning', 'error' or 'off', got 'loud'\n"},
            {"--verbose=yes", null, "iron-runtime: error: --verbose takes no value\n"},
        };
        for (String[] c : cases) {
            err.reset();
            String[] args = c[1] == null ? new String[] {"router", c[0]} : new String[] {"router", c[0], c[1]};
            assertEquals(2, run(Map.of(), args), String.join(" ", args));
            assertEquals(c[2], err.toString(StandardCharsets.UTF_8));
        }
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

    // ---- run ---------------------------------------------------------------------------------------

    private static final Map<String, String> KEYS = Map.of("OPENAI_API_KEY", "sk-env-0123456789abcdef");

    private static java.nio.file.Path agentScript(java.nio.file.Path dir) throws java.io.IOException {
        return java.nio.file.Files.writeString(dir.resolve("agent.py"), "print('hi')\n");
    }

    @Test
    void runFlagsBecomeOneValidatedConfiguration(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        agentScript(dir);
        RunOptions o = RunOptions.parse(new String[] {"run", "--budget", "2.5", "agent.py", "in.txt",
                "--restart=on-failure", "--max-restarts", "5", "--name", "nightly", "--python", "/usr/bin/python3",
                "--on-budget-exhausted", "stop", "--stop-timeout", "3", "--total-budget", "10", "--pii", "off",
                "--openai-base-url", "http://127.0.0.1:9", "--", "--verbose", "x"}, KEYS, dir);
        assertEquals(dir.resolve("agent.py"), o.agent().script());
        assertEquals(java.util.List.of("in.txt", "--verbose", "x"), o.agent().args());
        assertEquals((Long) (5 * io.ironruntime.cost.Money.PICOS_PER_DOLLAR / 2), o.agent().budgetPicos());
        assertEquals("nightly", o.agent().name());
        assertEquals(dir, o.agent().cwd());
        assertEquals(io.ironruntime.agent.RestartPolicy.ON_FAILURE, o.agent().restart().policy());
        assertEquals(5, o.agent().restart().maxRestarts());
        assertEquals("/usr/bin/python3", o.runtime().python());
        assertEquals(io.ironruntime.agent.BudgetExhaustedPolicy.STOP, o.runtime().onBudgetExhausted());
        assertEquals(java.time.Duration.ofSeconds(3), o.runtime().stopTimeout());
        io.ironruntime.config.RouterConfig r = o.runtime().router();
        assertEquals(io.ironruntime.pii.PiiMode.OFF, r.pii().mode());
        assertEquals(0, r.port(), "a free loopback port");
        assertEquals(10 * io.ironruntime.cost.Money.PICOS_PER_DOLLAR, r.budget().limitPicos());
        assertEquals(io.ironruntime.config.KeyMode.DIRECT, r.keyMode());
    }

    @Test
    void runDefaults(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        agentScript(dir);
        RunOptions o = RunOptions.parse(new String[] {"run", "agent.py"}, KEYS, dir);
        assertEquals(null, o.agent().budgetPicos(), "no agent budget");
        assertEquals(io.ironruntime.cost.BudgetLedger.UNLIMITED, o.runtime().router().budget().limitPicos(), "no total budget");
        assertEquals("agent.py", o.agent().name());
        assertEquals("python3", o.runtime().python());
        assertEquals(io.ironruntime.agent.RestartPolicy.NEVER, o.agent().restart().policy());
        assertEquals(java.util.List.of(), o.agent().args());
        RunOptions dashed = RunOptions.parse(new String[] {"run", "--budget", "1", "--", "agent.py", "a"}, KEYS, dir);
        assertEquals(java.util.List.of("a"), dashed.agent().args(), "run [flags] -- agent.py args");
        assertFalse(o.runtime().verbose());
        RunOptions verbose = RunOptions.parse(new String[] {"run", "--verbose", "agent.py", "a"}, KEYS, dir);
        assertEquals(java.util.List.of("a"), verbose.agent().args(), "--verbose takes no value: agent.py is the script");
        assertTrue(verbose.runtime().verbose(), "agents' lifecycle");
        assertTrue(verbose.runtime().router().verbose(), "and the request log");
    }

    @Test
    void badRunInputIsOneLineAndExitCodeTwo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        agentScript(dir);
        String here = System.getProperty("user.dir");
        String script = dir.resolve("agent.py").toString();
        String[][] cases = {
            {"run", dir.resolve("nothere.py").toString()},
            {"run", script, "--restarts", "3"},
            {"run", script, "--restart", "sometimes"},
            {"run", script, "--max-restarts", "many"},
            {"run", script, "--budget", "lots"},
            {"run", script, "--stop-timeout", "-1"},
            {"run", script, "--on-budget-exhausted", "pause"},
            {"run", script, "--cwd", dir.resolve("nowhere").toString()},
            {"run", "--budget", "1"},
            {"run", script, "--budget"},
        };
        String[] expected = {"agent script not found", "unknown flag --restarts", "restart must be", "--max-restarts",
            "budget", "--stop-timeout", "on_budget_exhausted", "--cwd", "needs the agent's script", "--budget needs a value"};
        for (int i = 0; i < cases.length; i++) {
            err.reset();
            out.reset();
            assertEquals(2, run(KEYS, cases[i]), String.join(" ", cases[i]));
            String text = err.toString(StandardCharsets.UTF_8);
            assertTrue(text.startsWith("iron-runtime: error: ") && text.indexOf('\n') == text.length() - 1, text);
            assertTrue(text.contains(expected[i]), text);
            assertFalse(text.contains("sk-env-0123456789abcdef"));
            assertEquals("", out.toString(StandardCharsets.UTF_8));
        }
        assertEquals(here, System.getProperty("user.dir"));
    }

    @Test
    void runWithoutAProviderKeyIsExitCodeTwo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        String script = agentScript(dir).toString();
        assertEquals(2, run(Map.of("IRON_RUNTIME_HOME", dir.toString()), "run", script));
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("iron-runtime: error: a runtime needs a router that holds the provider keys"), text);
    }

    @Test
    void runHelp() {
        assertEquals(0, run(Map.of(), "run", "--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("usage: iron-runtime run SCRIPT"));
    }
}
