package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.config.LogLevel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** SLF4J through the bundled JUL binding to our handler: line format, levels held by routers, quiet libraries. */
class EngineLoggingTest {

    /** What the engine's handler writes to stderr while {@code body} runs. */
    private static String stderrOf(Runnable body) {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(saved);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theMostDetailedLevelOfTheOpenRoutersApplies() {
        int[] changes = new int[1];
        LevelHolds holds = new LevelHolds(() -> changes[0]++);
        assertEquals(LogLevel.WARNING, holds.level(), "no router open");
        EngineLogging.Hold error = holds.hold(LogLevel.ERROR);
        assertEquals(LogLevel.ERROR, holds.level(), "a router may ask for less than the default");
        EngineLogging.Hold debug = holds.hold(LogLevel.DEBUG);
        EngineLogging.Hold debugToo = holds.hold(LogLevel.DEBUG);
        assertEquals(LogLevel.DEBUG, holds.level());
        debug.close();
        debug.close(); // a second close gives nothing back twice
        assertEquals(LogLevel.DEBUG, holds.level(), "another router still asks for debug");
        debugToo.close();
        assertEquals(LogLevel.ERROR, holds.level());
        error.close();
        assertEquals(LogLevel.WARNING, holds.level());
        assertEquals(6, changes[0], "every change but the repeated close is applied");
    }

    @Test
    void theEnginesLoggersFollowTheHeldLevel() {
        Logger engine = Logger.getLogger("io.ironruntime.router.LlmRouter");
        LogLevel before = EngineLogging.level();
        try (EngineLogging.Hold debug = EngineLogging.hold(LogLevel.DEBUG)) {
            assertEquals(LogLevel.DEBUG, EngineLogging.level());
            assertTrue(engine.isLoggable(Level.FINE));
        }
        assertEquals(before, EngineLogging.level());
        assertEquals(before == LogLevel.DEBUG, engine.isLoggable(Level.FINE));
    }

    @Test
    void engineLinesKeepTheirFormatAndFollowTheLevel() {
        String out = stderrOf(() -> {
            try (EngineLogging.Hold warning = EngineLogging.hold(LogLevel.WARNING)) {
                org.slf4j.Logger probe = LoggerFactory.getLogger("io.ironruntime.test.Probe");
                probe.warn("disk {} is full", "/tmp");
                if (EngineLogging.level() == LogLevel.WARNING) {
                    probe.info("not shown at warning");
                }
            }
        });
        assertTrue(out.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d{4} WARN Probe - disk /tmp is full\\R"),
                out);
        String info = stderrOf(() -> {
            try (EngineLogging.Hold hold = EngineLogging.hold(LogLevel.INFO)) {
                LoggerFactory.getLogger("io.ironruntime.test.Probe").info("now shown");
            }
        });
        assertTrue(info.endsWith(" INFO Probe - now shown" + System.lineSeparator()), info);
    }

    @Test
    void structuredLinesAreBareAndLibrariesStayQuiet() {
        String out = stderrOf(() -> {
            try (EngineLogging.Hold off = EngineLogging.hold(LogLevel.DEBUG)) {
                LoggerFactory.getLogger(EngineLogging.REQUESTS).info("{\"request_id\":\"req_1\"}");
                LoggerFactory.getLogger("org.apache.hc.core5.reactor.Probe").error("reactor race");
                LoggerFactory.getLogger("io.ironruntime.shaded.hc.core5.reactor.Probe").error("reactor race");
                LoggerFactory.getLogger("org.sqlite.SQLiteJDBCLoader").error("cleanup");
            }
        });
        assertEquals("{\"request_id\":\"req_1\"}" + System.lineSeparator(), out);
    }

    @Test
    void agentLifecycleStaysAtInfoWhateverTheLevel() {
        try (EngineLogging.Hold error = EngineLogging.hold(LogLevel.ERROR)) {
            assertTrue(Logger.getLogger("io.ironruntime.agent.AgentRuntime").isLoggable(Level.INFO),
                    "Runtime(verbose=True) reports agents at INFO");
            assertFalse(Logger.getLogger("io.ironruntime.agent.AgentRuntime").isLoggable(Level.FINE)
                    && EngineLogging.level() != LogLevel.DEBUG);
        }
    }
}
