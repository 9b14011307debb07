package io.ironruntime.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.cost.Money;
import io.ironruntime.state.AgentRow;
import io.ironruntime.state.AgentTotals;

/**
 * One agent's status and figures, the same whether it runs in this runtime (from its live account) or
 * is remembered by the database (from its row and the sums of its ledger and audit rows). Money in
 * exact pico-dollars; {@link #toJson} adds dollars for people.
 *
 * @param budgetLimitPicos null when the agent has no budget of its own
 * @param endedAtMs        null while it runs
 */
public record AgentMetrics(String agentId, String name, String status, Long pid, Integer exitCode, int restarts,
        long spentPicos, long reservedPicos, Long budgetLimitPicos, long requests, long inputTokens,
        long outputTokens, long piiDetections, long startedAtMs, Long endedAtMs, String lastError, String script,
        JsonNode args, String restartPolicy, int maxRestarts) {

    /** What the database remembers of an agent of this or an earlier runtime. */
    public static AgentMetrics recorded(AgentRow row, AgentTotals t) {
        return new AgentMetrics(row.agentId(), row.name(), row.status(), row.pid(), row.exitCode(), row.restarts(),
                t.spentPicos(), 0, row.budgetLimitPicos(), t.requests(), t.inputTokens(), t.outputTokens(),
                t.piiDetections(), row.startedAtMs(), row.endedAtMs(), row.lastError(), row.script(),
                Json.readOrNull(row.argsJson()), row.restartPolicy(), row.maxRestarts());
    }

    /** The keys {@code get_metrics} documents, in Python's names; times as epoch seconds. */
    public ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("agent_id", agentId);
        o.put("name", name);
        o.put("status", status);
        o.put("pid", pid);
        o.put("exit_code", exitCode);
        o.put("restarts", restarts);
        o.put("budget_spent", Money.picosToDollars(spentPicos));
        o.put("budget_spent_picos", spentPicos);
        o.put("budget_reserved", Money.picosToDollars(reservedPicos));
        if (budgetLimitPicos == null) {
            o.putNull("budget_limit");
        } else {
            o.put("budget_limit", Money.picosToDollars(budgetLimitPicos));
        }
        o.put("requests", requests);
        o.put("input_tokens", inputTokens);
        o.put("output_tokens", outputTokens);
        o.put("pii_detections", piiDetections);
        o.put("started_at", startedAtMs / 1000.0);
        if (endedAtMs == null) {
            o.putNull("ended_at");
        } else {
            o.put("ended_at", endedAtMs / 1000.0);
        }
        o.put("last_error", lastError);
        o.put("script", script);
        o.set("args", args);
        o.put("restart", restartPolicy);
        o.put("max_restarts", maxRestarts);
        return o;
    }
}
