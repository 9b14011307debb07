package io.ironruntime.telemetry;

import io.ironruntime.config.LogLevel;

/**
 * The log level the open routers ask for together: the most detailed of theirs, {@code warning} when
 * none is open. Each router holds its level until it closes. Thread-safe; {@code onChange} runs under
 * the lock after every change.
 */
final class LevelHolds {
    /** How many holds ask for each level. */
    private final int[] open = new int[LogLevel.values().length];
    private final Runnable onChange;

    LevelHolds(Runnable onChange) {
        this.onChange = onChange;
    }

    synchronized EngineLogging.Hold hold(LogLevel level) {
        open[level.ordinal()]++;
        onChange.run();
        boolean[] closed = new boolean[1];
        return () -> {
            synchronized (this) {
                if (!closed[0]) {
                    closed[0] = true;
                    open[level.ordinal()]--;
                    onChange.run();
                }
            }
        };
    }

    synchronized LogLevel level() {
        for (LogLevel l : LogLevel.values()) {
            if (open[l.ordinal()] > 0) {
                return l;
            }
        }
        return LogLevel.WARNING;
    }
}
