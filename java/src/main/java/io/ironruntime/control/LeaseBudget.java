package io.ironruntime.control;

import io.ironruntime.cost.BudgetLedger;

/** The router's budget as the lease keeper sees it: the ledger's state, the user's cap, and the lease's bound. */
public interface LeaseBudget {
    BudgetLedger.Snapshot snapshot();

    /** The cap the user set ({@code budget=}), or {@link BudgetLedger#UNLIMITED}. */
    long userLimitPicos();

    /** The most the ledger may have spent under the leases: the ledger's limit is the smaller of this and the cap. */
    void leaseLimit(long picos);
}
