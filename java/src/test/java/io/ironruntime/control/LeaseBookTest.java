package io.ironruntime.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.cost.BudgetLedger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The lease arithmetic, exact to the pico-dollar. */
class LeaseBookTest {
    private static final long MICRO = 1_000_000;

    @Test
    void theLeaseBoundsTheLedgerFromTheSpendItStartedAt() {
        LeaseBook book = new LeaseBook();
        book.begin("lease_a", 10_000_000, 3 * MICRO);
        assertEquals(3 * MICRO + 10_000_000 * MICRO, book.limitPicos());
        assertEquals(5 * MICRO, book.usedPicos(8 * MICRO));
        book.end();
        assertNull(book.leaseId());
    }

    @Test
    void lowWhenTheUnreservedPartFallsBelowTheThreshold() {
        LeaseBook book = new LeaseBook();
        book.begin("lease_a", 1_000, 0); // $0.001
        long limit = book.limitPicos();
        assertFalse(book.low(new BudgetLedger.Snapshot(limit, 700 * MICRO, 100 * MICRO), 200_000), "exactly 20% free");
        assertTrue(book.low(new BudgetLedger.Snapshot(limit, 700 * MICRO, 100 * MICRO + 1), 200_000));
        assertTrue(book.low(new BudgetLedger.Snapshot(limit, 900 * MICRO, 0), 200_000));
        book.end();
        assertFalse(book.low(new BudgetLedger.Snapshot(limit, limit, 0), 200_000), "no lease, nothing to refresh");
    }

    @Test
    void reportedMicrosNeverRunAheadOfTheLedgerNorMoreThanOneMicroBehind() {
        LeaseBook book = new LeaseBook();
        SplittableRandom random = new SplittableRandom(42);
        long picos = 0;
        long micros = 0;
        for (int i = 0; i < 100_000; i++) {
            long cost = random.nextLong(5 * MICRO); // mostly sub-micro-dollar and few-micro-dollar charges
            picos += cost;
            micros += book.charge(cost);
            assertTrue(micros * MICRO <= picos, "never more than was spent");
            assertTrue(picos - micros * MICRO < MICRO, "never a micro-dollar behind");
        }
        assertEquals(picos / MICRO, micros);
    }
}
