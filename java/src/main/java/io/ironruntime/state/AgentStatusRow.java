package io.ironruntime.state;

import java.util.Objects;

/**
 * One change of an agent's status, appended to {@code agent_status_history} (and read back in order).
 *
 * @param status   the new status's wire name
 * @param pid      the process at that moment, or null
 * @param exitCode the exit code that caused it, or null
 * @param detail   why, e.g. "exited with code 1; restart 2 in 1 s", or null
 */
public record AgentStatusRow(String agentId, long timestampMs, String status, Long pid, Integer exitCode,
        String detail) implements StoreRow {
    public AgentStatusRow {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(status, "status");
    }
}
