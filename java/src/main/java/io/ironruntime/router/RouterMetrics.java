package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import io.ironruntime.events.EventBus;
import java.util.Map;

/** The JSON of {@code router.metrics()}: counts, tokens and money (dollars as floats, exact amounts in picos). */
final class RouterMetrics {
    private RouterMetrics() {
    }

    static ObjectNode of(RouterStats stats, Accounting accounting, PiiAudit pii, EventBus events) {
        SpendTotals t = accounting.totals;
        BudgetLedger.Snapshot b = accounting.ledger.snapshot();
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("requests", stats.requests());
        o.put("proxied", stats.proxied());
        o.put("errors", stats.errors());
        o.put("rejected", stats.rejected());
        o.put("upstream_failures", stats.upstreamFailures());
        o.put("client_aborts", stats.clientAborts());
        o.put("in_flight", stats.inFlight());
        o.put("settled_requests", t.settled.sum());
        o.put("input_tokens", t.inputTokens.sum() + t.cacheReadTokens.sum() + t.cacheWriteTokens.sum());
        o.put("uncached_input_tokens", t.inputTokens.sum());
        o.put("cached_tokens", t.cacheReadTokens.sum());
        o.put("cache_write_tokens", t.cacheWriteTokens.sum());
        o.put("output_tokens", t.outputTokens.sum());
        o.put("cost", Money.picosToDollars(t.costPicos.sum()));
        o.put("budget_spent", Money.picosToDollars(b.spent()));
        o.put("budget_spent_picos", b.spent());
        if (b.unlimited()) {
            o.putNull("budget_limit");
            o.putNull("budget_remaining");
        } else {
            o.put("budget_limit", Money.picosToDollars(b.limit()));
            o.put("budget_remaining", Money.picosToDollars(Math.max(0, b.limit() - b.spent())));
        }
        o.put("budget_reserved", Money.picosToDollars(b.reserved()));
        o.put("budget_id", accounting.config.budgetId());
        o.put("refused_budget_exhausted", t.refusedExhausted.sum());
        o.put("refused_insufficient_budget", t.refusedInsufficient.sum());
        o.put("refused_unknown_model", t.refusedUnknownModel.sum());
        o.put("unknown_cost_requests", t.unknownCost.sum());
        o.put("estimated_usage_requests", t.estimatedUsage.sum());
        o.put("output_bounds_set", t.boundsInjected.sum());
        o.put("events_published", events.published());
        o.put("events_dropped", events.dropped());
        ObjectNode byConsumer = o.putObject("events_dropped_by_consumer");
        events.droppedByConsumer().forEach(byConsumer::put);
        o.put("ledger_pending", accounting.ledgerPending());
        o.put("ledger_error", accounting.ledgerFailure());
        ObjectNode cost = o.putObject("cost_by_model");
        ObjectNode models = o.putObject("models");
        for (Map.Entry<String, SpendTotals.ModelTotals> e : t.byModel().entrySet()) {
            SpendTotals.ModelTotals m = e.getValue();
            cost.put(e.getKey(), Money.picosToDollars(m.costPicos.sum()));
            ObjectNode mo = models.putObject(e.getKey());
            mo.put("requests", m.requests.sum());
            mo.put("input_tokens", m.inputTokens.sum());
            mo.put("output_tokens", m.outputTokens.sum());
            mo.put("cost", Money.picosToDollars(m.costPicos.sum()));
            mo.put("cost_picos", m.costPicos.sum());
        }
        pii.addTo(o);
        return o;
    }
}
