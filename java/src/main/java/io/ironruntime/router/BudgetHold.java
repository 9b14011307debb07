package io.ironruntime.router;

import io.ironruntime.cost.BudgetLedger;

/**
 * What one request holds of the budgets it is charged to: its agent's when a runtime agent sent it, and
 * the router's. Both reservations are the same amount (the smaller grant wins), and both are settled
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

    /**
     * Reserves in the agent's budget first (its refusal names the agent, which is what the agent must
     * hear when both are spent, and what a stop policy acts on), then the same amount, or what is left
     * of it, in the router's.
     */
    static Decision reserve(BudgetLedger routerLedger, AgentAccount account, long minimum, long wanted) {
        BudgetLedger.Reservation agentHold = null;
        boolean agentBounded = false;
        long amount = wanted;
        if (account != null) {
            BudgetLedger.Decision a = account.ledger.reserve(minimum, wanted);
            if (!a.granted()) {
                return new Decision(null, a, true);
            }
            agentHold = a.reservation();
            agentBounded = !a.at().unlimited();
            amount = agentHold.amount();
        }
        BudgetLedger.Decision r = routerLedger.reserve(minimum, amount);
        if (!r.granted()) {
            if (agentHold != null) {
                agentHold.release();
            }
            return new Decision(null, r, false);
        }
        if (agentHold != null) {
            agentHold.shrinkTo(r.reservation().amount());
        }
        return new Decision(new BudgetHold(r.reservation(), agentHold, agentBounded || !r.at().unlimited()), null, false);
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
