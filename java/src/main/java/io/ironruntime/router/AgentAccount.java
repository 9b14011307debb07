package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * One agent as the router knows it: its own budget (on top of the router's), and what its requests
 * spent and carried. Requests count as the ledger counts them: one per settled metered request.
 * Thread-safe; lives as long as the router, after the agent's token is revoked too.
 */
public final class AgentAccount {
    private final String agentId;
    final BudgetLedger ledger;
    final LongAdder requests = new LongAdder();
    final LongAdder inputTokens = new LongAdder();
    final LongAdder outputTokens = new LongAdder();
    final LongAdder piiDetections = new LongAdder();
    /** Requests refused because the agent's own budget was spent. */
    final LongAdder refused = new LongAdder();
    private final AtomicBoolean exhaustedReported = new AtomicBoolean();

    AgentAccount(String agentId, long limitPicos, long alreadySpentPicos) {
        this.agentId = agentId;
        this.ledger = new BudgetLedger(limitPicos, alreadySpentPicos);
    }

    public String agentId() {
        return agentId;
    }

    /** The agent's budget now (limit {@link BudgetLedger#UNLIMITED} when it has none of its own). */
    public BudgetLedger.Snapshot budget() {
        return ledger.snapshot();
    }

    public long requests() {
        return requests.sum();
    }

    public long inputTokens() {
        return inputTokens.sum();
    }

    public long outputTokens() {
        return outputTokens.sum();
    }

    public long piiDetections() {
        return piiDetections.sum();
    }

    public long refusedRequests() {
        return refused.sum();
    }

    /**
     * True the first time the agent's budget is found spent: its spend reached the limit, or a request
     * of its was refused for want of budget (so a stop policy acts once).
     */
    boolean firstExhaustion(boolean refused) {
        BudgetLedger.Snapshot s = ledger.snapshot();
        boolean spent = refused || (!s.unlimited() && s.spent() >= s.limit());
        return spent && exhaustedReported.compareAndSet(false, true);
    }

    /** Figures for metrics: dollars as numbers, exact pico-dollars beside them. */
    public ObjectNode toJson() {
        BudgetLedger.Snapshot b = ledger.snapshot();
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("agent_id", agentId);
        o.put("budget_spent", Money.picosToDollars(b.spent()));
        o.put("budget_spent_picos", b.spent());
        o.put("budget_reserved", Money.picosToDollars(b.reserved()));
        if (b.unlimited()) {
            o.putNull("budget_limit");
        } else {
            o.put("budget_limit", Money.picosToDollars(b.limit()));
        }
        o.put("requests", requests());
        o.put("input_tokens", inputTokens());
        o.put("output_tokens", outputTokens());
        o.put("pii_detections", piiDetections());
        o.put("refused_requests", refusedRequests());
        return o;
    }
}
