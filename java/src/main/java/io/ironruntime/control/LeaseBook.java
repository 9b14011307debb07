package io.ironruntime.control;

import io.ironruntime.cost.BudgetLedger;

/**
 * The arithmetic of the current budget lease: pure, every amount passed in.
 * <p>
 * A lease of {@code G} micro-dollars that became current when the router had spent {@code base}
 * pico-dollars lets the ledger go up to {@code base + G·10⁶}: everything settled from then on is charged
 * to it, including requests reserved under the lease before (a refresh expires the old lease on the
 * server, and their charges are reported against the new one).
 * <p>
 * Charges are reported in whole micro-dollars. The fraction of a micro-dollar of each request is carried
 * to the next, so the server's sum never runs more than one micro-dollar behind the ledger and never ahead.
 */
final class LeaseBook {
    static final long PICOS_PER_MICRO = io.ironruntime.cost.Money.PICOS_PER_MICRO;

    private String leaseId;
    private long grantedMicros;
    private long basePicos;
    private long carryPicos;

    /** A new current lease, granted when the ledger had spent {@code spentPicos}. */
    synchronized void begin(String id, long granted, long spentPicos) {
        this.leaseId = id;
        this.grantedMicros = granted;
        this.basePicos = spentPicos;
    }

    /**
     * A charge from before this lease (its own lease expired on the server, or there was none) was reported
     * against this one: the server counts it here, so the ledger may spend that much less under it.
     */
    synchronized void absorb(long micros) {
        basePicos -= micros * PICOS_PER_MICRO;
    }

    /** The current lease is gone (returned, revoked, expired): nothing more may be spent under it. */
    synchronized void end() {
        leaseId = null;
    }

    synchronized String leaseId() {
        return leaseId;
    }

    synchronized long grantedMicros() {
        return grantedMicros;
    }

    /** The most the ledger may have spent under the current lease. */
    synchronized long limitPicos() {
        return basePicos + grantedMicros * PICOS_PER_MICRO;
    }

    /** What the current lease has had charged so far, as the ledger counts it (sub-micro fractions included). */
    synchronized long usedPicos(long spentPicos) {
        return Math.max(0, spentPicos - basePicos);
    }

    /**
     * True when the part of the lease neither spent nor reserved is below {@code ppm} of it: time to refresh,
     * before a request finds the lease empty.
     */
    synchronized boolean low(BudgetLedger.Snapshot s, int ppm) {
        if (leaseId == null) {
            return false;
        }
        long granted = grantedMicros * PICOS_PER_MICRO;
        long free = basePicos + granted - s.spent() - s.reserved();
        return free < granted / 1_000_000 * ppm;
    }

    /** The whole micro-dollars to report for a request that cost {@code costPicos}. */
    synchronized long charge(long costPicos) {
        carryPicos += costPicos;
        long micros = carryPicos / PICOS_PER_MICRO;
        carryPicos -= micros * PICOS_PER_MICRO;
        return micros;
    }
}
