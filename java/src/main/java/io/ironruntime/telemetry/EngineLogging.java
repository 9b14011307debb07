package io.ironruntime.telemetry;

import io.ironruntime.config.LogLevel;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Where the engine's log lines go. SLF4J is bound to java.util.logging inside the jar; this class
 * gives the engine's own JUL loggers one handler of ours on stderr (they do not pass records on to the
 * JVM's root logger, which other code in the process may own) and sets their levels while the engine
 * runs:
 * <ul>
 * <li>{@code io.ironruntime}: the engine's messages at the {@code log_level} of the routers (the most
 *     detailed of those open; {@code warning} when none is), one line each as before:
 *     {@code 2026-01-02T10:00:00.000+0000 WARN Circuits - message};</li>
 * <li>{@code io.ironruntime.agent.AgentRuntime}: at least {@code info}, where {@code Runtime(verbose=True)}
 *     reports agents' lifecycle;</li>
 * <li>{@code iron_runtime}: structured lines (the request log of {@code verbose=True}), printed bare, at
 *     {@code info} whatever the level: a router that was asked for its request log gets it;</li>
 * <li>relocated libraries ({@code io.ironruntime.shaded}) off: HttpComponents reports benign reactor
 *     races on shutdown at ERROR, and every real failure reaches the exchange handlers anyway;
 *     the bundled sqlite-jdbc at {@code warning}, except its loader's cleanup of other processes'
 *     native libraries, which logs an ERROR whenever two processes start at once and is off.</li>
 * </ul>
 * JUL keeps loggers weakly: the configured ones are held here.
 */
public final class EngineLogging {
    /** The logger of the request log. */
    public static final String REQUESTS = "iron_runtime.requests";

    private static final Logger ENGINE = Logger.getLogger("io.ironruntime");
    private static final Logger AGENT_LIFECYCLE = Logger.getLogger("io.ironruntime.agent.AgentRuntime");
    private static final Logger STRUCTURED = Logger.getLogger("iron_runtime");
    private static final Logger SQLITE = Logger.getLogger("org.sqlite");
    /** Relocated libraries in the jar; HttpComponents by its own name in unshaded test runs. */
    private static final List<Logger> SILENCED = List.of(Logger.getLogger("io.ironruntime.shaded"),
            Logger.getLogger("org.apache.hc"), Logger.getLogger("org.sqlite.SQLiteJDBCLoader"));
    private static final LevelHolds HOLDS = new LevelHolds(EngineLogging::apply);

    static {
        LogLine lines = new LogLine(LogLine.Shape.ENGINE);
        for (Logger l : List.of(ENGINE, SQLITE)) {
            l.setUseParentHandlers(false);
            l.addHandler(lines);
        }
        STRUCTURED.setUseParentHandlers(false);
        STRUCTURED.addHandler(new LogLine(LogLine.Shape.BARE));
        STRUCTURED.setLevel(Level.INFO);
        SQLITE.setLevel(Level.WARNING);
        SILENCED.forEach(l -> l.setLevel(Level.OFF));
        apply();
    }

    private EngineLogging() {
    }

    /** A router's say in the level, until closed. */
    public interface Hold extends AutoCloseable {
        /** Gives the say back; later calls do nothing. */
        @Override
        void close();
    }

    /** A router asks for {@code level} until the returned hold is closed. */
    public static Hold hold(LogLevel level) {
        return HOLDS.hold(level);
    }

    /** The level in force: the most detailed that an open router asked for, else {@code warning}. */
    public static LogLevel level() {
        return HOLDS.level();
    }

    private static void apply() {
        Level engine = jul(level());
        ENGINE.setLevel(engine);
        AGENT_LIFECYCLE.setLevel(engine.intValue() < Level.INFO.intValue() ? engine : Level.INFO);
    }

    static Level jul(LogLevel level) {
        switch (level) {
            case DEBUG:
                return Level.FINE;
            case INFO:
                return Level.INFO;
            case WARNING:
                return Level.WARNING;
            case ERROR:
                return Level.SEVERE;
            default:
                return Level.OFF;
        }
    }
}
