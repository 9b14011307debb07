package io.ironruntime.cost;

/**
 * A budget in pico-dollars: what is spent, what is reserved by requests in flight, and the limit.
 * A request reserves the most it can cost before it goes upstream and settles to its real cost
 * afterwards (or releases the reservation when it fails), so the spent amount can only pass the limit
 * if a provider bills more than the reservation's bound. Every operation is one short critical section:
 * the ledger sits on the request path of every I/O thread.
 */
public final class BudgetLedger {
    /** No limit: spend is still tracked. */
    public static final long UNLIMITED = Long.MAX_VALUE;

    private long limit;
    private long spent;
    private long reserved;

    public BudgetLedger(long limitPicos, long alreadySpentPicos) {
        if (limitPicos < 0 || alreadySpentPicos < 0) {
            throw new IllegalArgumentException("budget amounts cannot be negative");
        }
        this.limit = limitPicos;
        this.spent = alreadySpentPicos;
    }

    /** Why a reservation was refused. */
    public enum Refusal {
        /** Nothing is left: spent and reserved already reach the limit. */
        EXHAUSTED,
        /** Something is left, but less than the request needs. */
        INSUFFICIENT
    }

    /** The outcome of {@link #reserve}: a reservation, or the reason there is none. */
    public record Decision(Reservation reservation, Refusal refusal, Snapshot at) {
        public boolean granted() {
            return reservation != null;
        }
    }

    /** Money set aside for one request; settle or release it exactly once (later calls do nothing). */
    public final class Reservation {
        private long amount;
        private boolean open = true;

        private Reservation(long amount) {
            this.amount = amount;
        }

        public long amount() {
            synchronized (BudgetLedger.this) {
                return amount;
            }
        }

        /**
         * Gives back what is above {@code smaller}: another budget granted the request less than this
         * one did, and the request may only cost what both allow.
         */
        public void shrinkTo(long smaller) {
            synchronized (BudgetLedger.this) {
                if (smaller < 0 || smaller > amount) {
                    throw new IllegalArgumentException("a reservation can only shrink, to 0 or more");
                }
                if (open) {
                    reserved -= amount - smaller;
                    amount = smaller;
                }
            }
        }

        /** The request finished and cost {@code actualPicos}; returns true the first time. */
        public boolean settle(long actualPicos) {
            if (actualPicos < 0) {
                throw new IllegalArgumentException("a cost cannot be negative");
            }
            synchronized (BudgetLedger.this) {
                if (!open) {
                    return false;
                }
                open = false;
                reserved -= amount;
                spent = saturatingAdd(spent, actualPicos);
                return true;
            }
        }

        /** The request never cost anything (refused upstream before use, failed, cancelled). */
        public boolean release() {
            synchronized (BudgetLedger.this) {
                if (!open) {
                    return false;
                }
                open = false;
                reserved -= amount;
                return true;
            }
        }
    }

    /** The amounts at one instant. */
    public record Snapshot(long limit, long spent, long reserved) {
        public boolean unlimited() {
            return limit == UNLIMITED;
        }

        /** What new reservations may still take (0 when nothing is left). */
        public long available() {
            return unlimited() ? UNLIMITED : Math.max(0, limit - spent - reserved);
        }
    }

    /**
     * Reserves {@code wanted}, or as much of it as is left when that is at least {@code minimum}
     * (a request without an output bound can be given one that fits). Refuses otherwise.
     */
    public synchronized Decision reserve(long minimum, long wanted) {
        if (minimum < 0 || wanted < minimum) {
            throw new IllegalArgumentException("need 0 <= minimum <= wanted");
        }
        Snapshot now = snapshot();
        long available = now.available();
        if (!now.unlimited() && available == 0) {
            return new Decision(null, Refusal.EXHAUSTED, now);
        }
        if (available < minimum) {
            return new Decision(null, Refusal.INSUFFICIENT, now);
        }
        long amount = Math.min(wanted, available);
        reserved = saturatingAdd(reserved, amount);
        return new Decision(new Reservation(amount), null, now);
    }

    /** Spend recorded elsewhere (another router sharing the budget) that this ledger must count too. */
    public synchronized void addSpent(long picos) {
        if (picos < 0) {
            throw new IllegalArgumentException("spend cannot be negative");
        }
        spent = saturatingAdd(spent, picos);
    }

    /** Changes the limit at once; reservations already granted stand. */
    public synchronized void setLimit(long limitPicos) {
        if (limitPicos < 0) {
            throw new IllegalArgumentException("a budget cannot be negative");
        }
        this.limit = limitPicos;
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(limit, spent, reserved);
    }

    private static long saturatingAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
