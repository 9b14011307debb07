package io.ironruntime.router;

import io.ironruntime.cost.BudgetLedger;

/**
 * What one request holds of the budgets it is charged to: the router's, and its agent's when a runtime
 * agent sent it. Both reservations are the same amount (the smaller grant wins), and both are settled
 * or released together, exactly once.
 */
final class BudgetHold {
    private final BudgetLedger.Reservation router;
    /** Null for a request that is no agent's. */
    private final BudgetLedger.Reservation agent;
    private final boolean bounded;

    private BudgetHold(BudgetLedger.Reservation router, BudgetLedger.Reservation agent, boolean bounded) {
        this.router = router;
        this.agent = agent;
        this.bounded = bounded;
    }

    /** The outcome of {@link #reserve}: a hold, or the refusal and whose budget refused. */
    record Decision(BudgetHold hold, BudgetLedger.Decision refused, boolean agentRefused) {
        boolean granted() {
            return hold != null;
        }
    }

    /** Reserves in the router's budget, then the same amount (or what is left of it) in the agent's. */
    static Decision reserve(BudgetLedger routerLedger, AgentAccount account, long minimum, long wanted) {
        BudgetLedger.Decision r = routerLedger.reserve(minimum, wanted);
        if (!r.granted()) {
            return new Decision(null, r, false);
        }
        if (account == null) {
            return new Decision(new BudgetHold(r.reservation(), null, !r.at().unlimited()), null, false);
        }
        BudgetLedger.Decision a = account.ledger.reserve(minimum, r.reservation().amount());
        if (!a.granted()) {
            r.reservation().release();
            return new Decision(null, a, true);
        }
        r.reservation().shrinkTo(a.reservation().amount());
        boolean bounded = !r.at().unlimited() || !a.at().unlimited();
        return new Decision(new BudgetHold(r.reservation(), a.reservation(), bounded), null, false);
    }

    long amount() {
        return router.amount();
    }

    /** True when some budget limits this request, so its output must be bounded to what the hold pays for. */
    boolean bounded() {
        return bounded;
    }

    void settle(long costPicos) {
        router.settle(costPicos);
        if (agent != null) {
            agent.settle(costPicos);
        }
    }

    void release() {
        router.release();
        if (agent != null) {
            agent.release();
        }
    }
}
