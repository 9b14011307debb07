package io.ironruntime.config;

import java.util.Locale;

/** How much the engine logs ({@code log_level}), from the most detailed to nothing. */
public enum LogLevel {
    DEBUG("debug"), INFO("info"), WARNING("warning"), ERROR("error"), OFF("off");

    private final String wireName;

    LogLevel(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** The level named {@code name} (any case; {@code warn} for warning), or a message naming the choices. */
    public static LogLevel parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        for (LogLevel l : values()) {
            if (l.wireName.equals(n)) {
                return l;
            }
        }
        if (n.equals("warn")) {
            return WARNING;
        }
        throw new ConfigException("log_level must be 'debug', 'info', 'warning', 'error' or 'off', got '"
                + name.replaceAll("\\p{Cntrl}", "?") + "'");
    }
}
