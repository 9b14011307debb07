package io.ironruntime.agent;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Where an agent is in its life. The wire name (lower case) is what Python, the CLI and the
 * {@code agents.status} column see.
 */
public enum AgentStatus {
    STARTING, RUNNING, PAUSED, STOPPING, STOPPED, COMPLETED, FAILED, RESTARTING;

    private final String wireName = name().toLowerCase(Locale.ROOT);

    public String wireName() {
        return wireName;
    }

    /** True for the final states: stopped (on request), completed (exit 0) and failed. */
    public boolean ended() {
        return this == STOPPED || this == COMPLETED || this == FAILED;
    }

    /** The status of a wire name (any case); an unknown name is an error that lists the valid ones. */
    public static AgentStatus parse(String wireName) {
        if (wireName != null) {
            String n = wireName.strip().toLowerCase(Locale.ROOT);
            for (AgentStatus s : values()) {
                if (s.wireName.equals(n)) {
                    return s;
                }
            }
        }
        throw new IllegalArgumentException("unknown agent status " + (wireName == null ? "null" : "'" + wireName + "'")
                + ": expected one of " + Arrays.stream(values()).map(AgentStatus::wireName).collect(Collectors.joining(", ")));
    }
}
