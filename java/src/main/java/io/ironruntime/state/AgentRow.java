package io.ironruntime.state;

import java.util.Objects;

/**
 * One agent as the {@code agents} table keeps it. Appending it upserts the whole row (the latest
 * append wins); reading the table gives rows of the same shape. Nothing secret belongs here: the
 * environment is never stored, {@code argsJson} holds the arguments as the user gave them.
 *
 * @param runtimeId        the AgentRuntime instance that ran it (see {@link LedgerStore#endOrphans})
 * @param name             the user's name for it, or null
 * @param argsJson         the script's arguments as a JSON array of strings
 * @param budgetLimitPicos the agent's own budget in pico-dollars, or null for none
 * @param restartPolicy    {@code never}, {@code on-failure} or {@code always}
 * @param status           an agent status wire name ({@code running}, {@code failed}, ...)
 * @param pid              the current or last process id, or null before the first start
 * @param exitCode         the last exit code, or null while it has not exited
 * @param endedAtMs        when it reached a final status, or null
 * @param lastError        why it failed or was stopped, or null
 */
public record AgentRow(String agentId, String runtimeId, String name, String script, String argsJson,
        Long budgetLimitPicos, String restartPolicy, int maxRestarts, String status, Long pid, Integer exitCode,
        int restarts, long startedAtMs, Long endedAtMs, String lastError) implements StoreRow {
    /** The NOT NULL columns are checked here, on the caller's thread: a row the writer cannot commit would be retried forever. */
    public AgentRow {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(runtimeId, "runtimeId");
        Objects.requireNonNull(script, "script");
        Objects.requireNonNull(argsJson, "argsJson");
        Objects.requireNonNull(restartPolicy, "restartPolicy");
        Objects.requireNonNull(status, "status");
    }
}
