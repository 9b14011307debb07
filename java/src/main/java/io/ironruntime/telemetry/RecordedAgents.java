package io.ironruntime.telemetry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.state.AgentRow;
import io.ironruntime.state.AgentTotals;
import io.ironruntime.state.LedgerStore;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The agents a router's database remembers (of this process's runtimes and of earlier ones), as
 * {@code get_metrics} shows them, with the id of the runtime that ran them.
 */
public final class RecordedAgents {
    private RecordedAgents() {
    }

    /** Every recorded agent but those in {@code skip} (shown live by their runtime), newest first. */
    public static List<ObjectNode> list(LedgerStore store, Set<String> skip) throws SQLException {
        Map<String, AgentTotals> totals = store.totalsByAgent();
        List<ObjectNode> out = new ArrayList<>();
        for (AgentRow row : store.agents()) {
            if (!skip.contains(row.agentId())) {
                out.add(json(row, totals.getOrDefault(row.agentId(), AgentTotals.none(row.agentId()))));
            }
        }
        return out;
    }

    /** One recorded agent, or null when no runtime recorded this id. */
    public static ObjectNode one(LedgerStore store, String agentId) throws SQLException {
        AgentRow row = store.agent(agentId);
        return row == null ? null : json(row, store.totals(agentId));
    }

    private static ObjectNode json(AgentRow row, AgentTotals t) {
        ObjectNode o = AgentMetrics.recorded(row, t).toJson();
        o.put("runtime_id", row.runtimeId());
        return o;
    }
}
