package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.config.BudgetConfig;
import io.ironruntime.control.Admission;
import io.ironruntime.control.ControlSession;
import io.ironruntime.control.LeaseBudget;
import io.ironruntime.cost.BudgetAlerts;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.ModelPrice;
import io.ironruntime.cost.Money;
import io.ironruntime.cost.PricingTable;
import io.ironruntime.cost.RequestEstimate;
import io.ironruntime.cost.ReservationPlan;
import io.ironruntime.cost.Usage;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventSink;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.state.LedgerRow;
import io.ironruntime.state.LedgerStore;
import java.math.BigDecimal;
import java.sql.SQLException;

/**
 * A router's money: prices, the budget ledger, running totals, alerts and the persistent ledger.
 * Lives as long as the router object (across stop and start). {@link #admit} runs on the request
 * path as a request stage; {@link RequestCharge} calls {@link #settle} once per metered request.
 * Both are short and never touch the disk: ledger rows go to the store's writer thread.
 */
final class Accounting implements AutoCloseable, LeaseBudget {
    final BudgetConfig config;
    final PricingTable pricing;
    final BudgetLedger ledger;
    final SpendTotals totals = new SpendTotals();
    /** Requests and usage by provider, model and status, for the Prometheus series. */
    final TrafficTotals traffic = new TrafficTotals();
    /** The runtime agents, each with its own token and budget on top of this one. */
    final AgentAccounts agents = new AgentAccounts();
    /** The router's events (budget alerts go there). */
    private final EventSink events;
    private final BudgetAlerts alerts;
    /** Null when persistence is off. */
    private final LedgerStore store;
    /** The settled requests {@code GET /iron/api/requests} lists when persistence is off. */
    final RecentRequests recent = new RecentRequests(RecentRequests.CAPACITY);
    /** What other routers sharing the budget id spent, as far as this ledger counts it already. */
    private long othersCounted;
    /** The user's cap ({@code budget=}, {@code set_budget}); the ledger's limit is the smaller of it and the lease's. */
    private long userLimit;
    /** In control-server mode, the most the leases let the ledger spend; unlimited otherwise. */
    private long leaseLimit = BudgetLedger.UNLIMITED;
    /** Control-server mode's session, or null. */
    private volatile ControlSession control;

    private Accounting(BudgetConfig config, LedgerStore store, long alreadySpent, EventSink events) {
        this.config = config;
        this.events = events;
        this.pricing = config.pricing();
        this.store = store;
        this.ledger = new BudgetLedger(config.limitPicos(), alreadySpent);
        this.userLimit = config.limitPicos();
        this.alerts = new BudgetAlerts(config.alertsPpm());
        alerts.check(ledger.snapshot()); // thresholds crossed in earlier runs do not fire again
    }

    /** Opens the ledger database (when persistence is on) and reads what the budget id already spent. */
    static Accounting open(BudgetConfig config, EventSink events) {
        if (config.database() == null) {
            return new Accounting(config, null, 0, events);
        }
        LedgerStore store = null;
        try {
            store = LedgerStore.open(config.database());
            long spent = config.budgetId() == null ? 0 : store.spentPicos(config.budgetId());
            Accounting a = new Accounting(config, store, spent, events);
            if (config.budgetId() != null) {
                store.watchBudget(config.budgetId(), a::othersSpent);
            }
            return a;
        } catch (SQLException | RuntimeException e) {
            if (store != null) {
                try {
                    store.close();
                } catch (SQLException ignored) {
                    // the open failure is the one to report
                }
            }
            throw new RouterStartException("cannot open the ledger database " + config.database() + " ("
                    + e.getMessage() + "): set state_dir to a writable directory, or persist=False", e);
        }
    }

    // ---- request path ------------------------------------------------------------------------------

    /**
     * Decides whether a metered request may go upstream: prices it, checks its fields, reserves the
     * most it can cost, and rewrites the body when the router must bound its output or ask for usage.
     * Sets {@code r.charge} when it lets the request through.
     */
    ErrorReply admit(ProxyRequest r) {
        MeteredEndpoint endpoint = MeteredEndpoint.of(r.method(), r.route.upstreamPath(), r.json);
        if (endpoint == null) {
            return null;
        }
        String model = r.model();
        if (model == null || model.isBlank()) {
            if (!endpoint.needsModel()) {
                return null;
            }
            return ErrorReply.badRequest("model_required", r.json.has("model") && !r.json.get("model").isNull()
                    ? "\"model\" must be a non-empty string naming the model"
                    : "This request names no model: set \"model\" (for example \"gpt-4o-mini\" or \"claude-sonnet-4-5\")");
        }
        ModelPrice price = pricing.find(model);
        String requestedTier = r.json.path("service_tier").asText(null);
        if (price == null && config.unknownModel() == BudgetConfig.UnknownModelPolicy.BLOCK) {
            totals.refusedUnknownModel.increment();
            String shown = RequestStages.printable(model);
            return ErrorReply.badRequest("model_not_priced", "Model '" + shown + "' has no price, so its cost"
                    + " could not be tracked and the request was not sent. Add a price with"
                    + " LlmRouter(custom_pricing={'" + shown + "': {'input_cost_per_token': ..., 'output_cost_per_token': ...}})"
                    + " or a pricing_file, or pass unknown_model='allow' to forward it with its cost flagged unknown");
        }
        RequestEstimate estimate;
        int choices;
        try {
            estimate = RequestEstimate.of(model, r.json);
            choices = endpoint.hasChoices() ? RequestEstimate.choices(r.json) : 1;
        } catch (RequestEstimate.InvalidRequest e) {
            return ErrorReply.badRequest("invalid_request_field", e.getMessage());
        }
        ControlSession control = this.control;
        if (control != null) {
            Admission lease = control.lease();
            if (lease.pending() != null) {
                ErrorReply wait = r.waitFor(lease.pending());
                if (wait != null) {
                    return wait;
                }
            } else if (lease.refusal() != null) {
                return lease.refusal();
            }
        }
        BudgetHold.Decision decision;
        ReservationPlan plan = null;
        if (price == null) {
            decision = BudgetHold.reserve(ledger, r.agent, 0, 0); // unpriced: costs nothing known, but not once the budget is gone
        } else {
            ModelPrice reservedAt = price.forTier(requestedTier); // priority processing costs more
            plan = ReservationPlan.of(reservedAt, estimate.inputBound(), estimate.outputBound(), choices,
                    endpoint.producesOutput());
            decision = BudgetHold.reserve(ledger, r.agent, plan.wanted(), plan.wanted());
            if (!decision.granted() && decision.refused().refusal() == BudgetLedger.Refusal.INSUFFICIENT) {
                // The cheap bound does not fit: count the tokens for a tight one.
                plan = ReservationPlan.of(reservedAt, estimate.inputTokens(), estimate.outputBound(), choices,
                        endpoint.producesOutput());
                decision = BudgetHold.reserve(ledger, r.agent, plan.minimum(), plan.wanted());
            }
        }
        if (!decision.granted()) {
            if (control != null && !decision.agentRefused()) {
                java.util.concurrent.CompletableFuture<Void> refresh = control.moreBudget();
                ErrorReply wait = refresh == null ? null : r.waitFor(refresh);
                if (wait != null) {
                    return wait; // a refresh may grant enough: this stage runs again when it is done
                }
            }
            budgetExceeded(r, decision, plan);
            return decision.agentRefused() ? agentRefusal(r.agent, decision.refused(), plan)
                    : refusal(decision.refused(), plan);
        }
        BudgetHold hold = decision.hold();
        if (control != null) {
            control.reserved();
        }
        boolean rewritten = false;
        long outputPerChoice = plan != null ? plan.outputCap() : Math.max(0, estimate.outputBound());
        if (plan != null && endpoint.producesOutput() && !plan.clientBound() && (hold.bounded() || r.outputBoundRequired)) {
            // No bound from the client: send the one the reservation pays for, so the provider stops in budget
            // (a translated Claude request needs one in any case: the model's max output when the budget is unlimited).
            outputPerChoice = plan.outputTokensFor(hold.amount());
            ((ObjectNode) r.json).put(endpoint.boundField, outputPerChoice);
            totals.boundsInjected.increment();
            rewritten = true;
        }
        boolean hideUsage = endpoint.usageOnRequest && asksUsageLess(r.json);
        if (hideUsage) {
            JsonNode options = r.json.get("stream_options");
            ObjectNode o = options != null && options.isObject() ? (ObjectNode) options
                    : ((ObjectNode) r.json).putObject("stream_options");
            o.put("include_usage", true);
            rewritten = true;
        }
        if (rewritten) {
            ErrorReply failed = r.encodeJson();
            if (failed != null) {
                hold.release();
                return failed;
            }
        }
        long outputBound = endpoint.producesOutput() ? outputPerChoice * Math.max(1, choices) : 0;
        r.charge = new RequestCharge(this, r, model, r.provider(), price, requestedTier, estimate,
                hold, r.agent, endpoint.producesOutput(), hideUsage, outputBound);
        return null;
    }

    /** A stream whose client did not ask for usage: the router asks for it and hides it again. */
    private static boolean asksUsageLess(JsonNode json) {
        return json.path("stream").asBoolean(false) && !json.path("stream_options").path("include_usage").asBoolean(false);
    }

    /**
     * The {@code budget_exceeded} event of a 402: whose budget refused ({@code scope} router or agent),
     * why ({@code exhausted}, or {@code insufficient} for this request), and the budget's state then.
     */
    private void budgetExceeded(ProxyRequest r, BudgetHold.Decision decision, ReservationPlan plan) {
        BudgetLedger.Decision d = decision.refused();
        BudgetLedger.Snapshot s = d.at();
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("scope", decision.agentRefused() ? "agent" : "router");
        p.put("reason", d.refusal() == BudgetLedger.Refusal.EXHAUSTED ? "exhausted" : "insufficient");
        p.put("model", r.model());
        p.put("budget_limit", Money.picosToDollars(s.limit()));
        p.put("budget_spent", Money.picosToDollars(s.spent()));
        p.put("budget_reserved", Money.picosToDollars(s.reserved()));
        if (plan == null) {
            p.putNull("request_max_cost");
        } else {
            p.put("request_max_cost", Money.picosToDollars(plan.minimum()));
        }
        p.put("budget_id", decision.agentRefused() ? null : config.budgetId());
        events.publish(EngineEvent.of(EngineEvent.BUDGET_EXCEEDED, r.agentId(), r.id, p));
    }

    private ErrorReply refusal(BudgetLedger.Decision d, ReservationPlan plan) {
        BudgetLedger.Snapshot s = d.at();
        String state = usd(s.spent()) + " spent and " + usd(s.reserved()) + " reserved by requests in flight, of a "
                + usd(s.limit()) + " budget" + (config.budgetId() == null ? "" : " (budget_id '" + config.budgetId() + "')");
        if (d.refusal() == BudgetLedger.Refusal.EXHAUSTED) {
            totals.refusedExhausted.increment();
            return ErrorReply.paymentRequired("iron_cage_budget_exceeded", "budget_exceeded", "Budget exhausted: "
                    + state + "." + leaseNote() + " Raise it with router.set_budget(...) or start a new budget.");
        }
        totals.refusedInsufficient.increment();
        String need = plan == null ? "" : " This request may cost up to " + usd(plan.minimum()) + ";";
        return ErrorReply.paymentRequired("iron_cage_insufficient_budget", "insufficient_budget",
                "Insufficient budget:" + need + " only " + usd(s.available()) + " is left (" + state
                        + ")." + leaseNote() + " Lower max_tokens or shorten the request, or raise the budget with router.set_budget(...).");
    }

    private String leaseNote() {
        ControlSession c = control;
        return c == null ? "" : c.refusalNote();
    }

    /** The agent's own budget refused: the router's may have room, but this agent may not spend it. */
    private ErrorReply agentRefusal(AgentAccount agent, BudgetLedger.Decision d, ReservationPlan plan) {
        agent.refused.increment();
        agents.checkExhausted(agent, true);
        BudgetLedger.Snapshot s = d.at();
        String state = usd(s.spent()) + " spent and " + usd(s.reserved()) + " reserved by its requests in flight, of its "
                + usd(s.limit()) + " budget";
        if (d.refusal() == BudgetLedger.Refusal.EXHAUSTED) {
            totals.refusedExhausted.increment();
            return ErrorReply.paymentRequired("iron_cage_budget_exceeded", "agent_budget_exceeded", "Agent budget exhausted:"
                    + " agent " + agent.agentId() + " has " + state + ". Start it with a larger budget=...");
        }
        totals.refusedInsufficient.increment();
        String need = plan == null ? "" : " This request may cost up to " + usd(plan.minimum()) + ";";
        return ErrorReply.paymentRequired("iron_cage_insufficient_budget", "agent_insufficient_budget",
                "Insufficient agent budget:" + need + " agent " + agent.agentId() + " has only " + usd(s.available())
                        + " left (" + state + "). Lower max_tokens or shorten the request.");
    }

    static String usd(long picos) {
        BigDecimal v = BigDecimal.valueOf(picos, 12).stripTrailingZeros();
        return "$" + (v.scale() < 2 ? v.setScale(2) : v).toPlainString();
    }

    // ---- settlement ----------------------------------------------------------------------------------

    /**
     * @param servedTier the service tier the response says it was processed in (it may differ from the
     *                   one asked for), or null
     * @return the request's row: in the database (when persistence is on) or the recent requests in memory
     */
    LedgerRow settle(RequestCharge c, Usage usage, String servedTier, boolean estimated, int status, String outcome,
            long latencyMs) {
        long cost = c.price == null ? 0 : c.price.forTier(servedTier).cost(usage);
        if (outcome.equals("not_answered")) {
            c.hold.release();
        } else {
            c.hold.settle(cost);
        }
        totals.record(c.model, usage, cost, c.price != null, estimated);
        traffic.settled(c.provider, c.model, usage, cost);
        AgentAccount agent = c.agent;
        if (agent != null) {
            agent.requests.increment();
            agent.inputTokens.add(usage.totalInputTokens());
            agent.outputTokens.add(usage.outputTokens());
            agents.checkExhausted(agent, false);
        }
        ProxyRequest r = c.request;
        LedgerRow row = new LedgerRow(System.currentTimeMillis(), c.requestId, config.budgetId(),
                agent == null ? null : agent.agentId(), c.provider.wireName(), c.model, usage.inputTokens(),
                usage.cacheReadTokens(), usage.cacheWriteTokens(), usage.outputTokens(), cost, c.price != null, estimated,
                status, outcome, latencyMs, Math.max(1, c.attempts()), r.trace.parent().header(), r.piiDetections.get(),
                r.stream());
        ControlSession control = this.control;
        if (control != null) {
            control.settled(row); // writes the row together with the report and event it owes the server
        } else if (store != null) {
            store.append(row);
        }
        if (store == null) {
            recent.add(row);
        }
        events.publish(requestEvent(row));
        checkAlerts(c.requestId);
        return row;
    }

    /**
     * {@code request_completed}, or {@code request_failed} when the provider answered an error
     * (status 400 or more) or the exchange did not complete (any outcome but {@code completed}:
     * client_disconnected, upstream_failed, not_answered...). The ledger row's facts.
     */
    static EngineEvent requestEvent(LedgerRow row) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        RequestFacts.write(row, p);
        p.put("cost_known", row.costKnown());
        p.put("usage_estimated", row.usageEstimated());
        boolean failed = row.status() >= 400 || !row.outcome().equals("completed");
        return EngineEvent.of(failed ? EngineEvent.REQUEST_FAILED : EngineEvent.REQUEST_COMPLETED, row.agentId(),
                row.requestId(), p);
    }

    /**
     * Other routers sharing this budget id (in this process or others) spent {@code othersSince} in
     * all since this router opened the database; counted here as soon as their rows are committed.
     */
    private synchronized void othersSpent(long othersSince) {
        long fresh = othersSince - othersCounted;
        if (fresh > 0) {
            othersCounted = othersSince;
            ledger.addSpent(fresh);
            checkAlerts(null);
        }
    }

    /** Changes the user's cap at once; requests already admitted keep their reservations. */
    void setLimit(long picos) {
        synchronized (this) {
            userLimit = picos;
            ledger.setLimit(Math.min(userLimit, leaseLimit));
        }
        checkAlerts(null);
    }

    // ---- control-server mode ---------------------------------------------------------------------------

    void control(ControlSession session) {
        this.control = session;
    }

    ControlSession control() {
        return control;
    }

    @Override
    public BudgetLedger.Snapshot snapshot() {
        return ledger.snapshot();
    }

    @Override
    public synchronized long userLimitPicos() {
        return userLimit;
    }

    @Override
    public void leaseLimit(long picos) {
        synchronized (this) {
            leaseLimit = picos;
            ledger.setLimit(Math.min(userLimit, leaseLimit));
        }
        checkAlerts(null);
    }

    private void checkAlerts(String requestId) {
        BudgetLedger.Snapshot now = ledger.snapshot();
        for (int ppm : alerts.check(now)) {
            ObjectNode p = Json.MAPPER.createObjectNode();
            p.put("threshold", ppm / 1_000_000.0);
            p.put("budget_spent", Money.picosToDollars(now.spent()));
            p.put("budget_limit", Money.picosToDollars(now.limit()));
            p.put("budget_reserved", Money.picosToDollars(now.reserved()));
            p.put("budget_id", config.budgetId());
            events.publish(EngineEvent.of(EngineEvent.BUDGET_THRESHOLD_REACHED, null, requestId, p));
        }
    }

    // ---- edges ---------------------------------------------------------------------------------------

    /** Waits until every settled request's row is committed; false on timeout or without persistence. */
    boolean flush(long timeoutMillis) {
        if (store == null) {
            return false;
        }
        try {
            return store.flush(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The database writer, or null when persistence is off (PII audit rows go there too). */
    LedgerStore store() {
        return store;
    }

    long ledgerPending() {
        return store == null ? 0 : store.pending();
    }

    String ledgerFailure() {
        Exception e = store == null ? null : store.lastFailure();
        return e == null ? null : e.getMessage();
    }

    @Override
    public void close() {
        if (store != null) {
            try {
                store.close();
            } catch (SQLException e) {
                // rows were flushed by the writer before the connection closed; nothing else to save
            }
        }
    }
}
