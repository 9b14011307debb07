package io.ironruntime.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BudgetLedgerTest {
    @Test
    void reserveSettleAndReleaseMoveMoneyExactlyOnce() {
        BudgetLedger ledger = new BudgetLedger(1_000, 100);
        BudgetLedger.Decision d = ledger.reserve(300, 300);
        assertTrue(d.granted());
        assertEquals(300, ledger.snapshot().reserved());
        assertEquals(600, ledger.snapshot().available());
        assertTrue(d.reservation().settle(250));
        assertFalse(d.reservation().settle(250), "a second settle does nothing");
        assertFalse(d.reservation().release());
        assertEquals(new BudgetLedger.Snapshot(1_000, 350, 0), ledger.snapshot());

        BudgetLedger.Reservation r = ledger.reserve(100, 100).reservation();
        assertTrue(r.release());
        assertFalse(r.settle(100));
        assertEquals(new BudgetLedger.Snapshot(1_000, 350, 0), ledger.snapshot());
    }

    @Test
    void refusalsSayWhetherAnythingIsLeft() {
        BudgetLedger ledger = new BudgetLedger(1_000, 0);
        BudgetLedger.Reservation big = ledger.reserve(800, 800).reservation();
        BudgetLedger.Decision tooMuch = ledger.reserve(300, 300);
        assertFalse(tooMuch.granted());
        assertEquals(BudgetLedger.Refusal.INSUFFICIENT, tooMuch.refusal());
        assertEquals(200, tooMuch.at().available());

        BudgetLedger.Decision fitted = ledger.reserve(50, 10_000);
        assertEquals(200, fitted.reservation().amount(), "an unbounded request gets what is left");
        assertEquals(BudgetLedger.Refusal.EXHAUSTED, ledger.reserve(0, 1).refusal());
        big.settle(800);
        fitted.reservation().settle(200);
        assertEquals(BudgetLedger.Refusal.EXHAUSTED, ledger.reserve(1, 1).refusal());
    }

    @Test
    void unlimitedTracksSpendAndLimitChangesAtOnce() {
        BudgetLedger ledger = new BudgetLedger(BudgetLedger.UNLIMITED, 0);
        ledger.reserve(5, 5).reservation().settle(5);
        assertEquals(5, ledger.snapshot().spent());
        assertTrue(ledger.snapshot().unlimited());
        ledger.setLimit(5);
        assertEquals(BudgetLedger.Refusal.EXHAUSTED, ledger.reserve(1, 1).refusal());
        ledger.setLimit(10);
        assertTrue(ledger.reserve(5, 5).granted());
        assertThrows(IllegalArgumentException.class, () -> ledger.setLimit(-1));
        assertThrows(IllegalArgumentException.class, () -> new BudgetLedger(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> ledger.reserve(5, 4));
    }

    @Test
    void concurrentRequestsNeverSpendPastTheLimit() throws Exception {
        long limit = 1_000_000;
        BudgetLedger ledger = new BudgetLedger(limit, 0);
        AtomicLong settled = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong overspends = new AtomicLong(); // checked in the workers, asserted here
        int threads = 16;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 5_000; i++) {
                    long bound = 1 + rnd.nextLong(2_000);
                    BudgetLedger.Decision d = rnd.nextBoolean() ? ledger.reserve(bound, bound) : ledger.reserve(1, bound);
                    if (!d.granted()) {
                        refused.incrementAndGet();
                        continue;
                    }
                    long amount = d.reservation().amount();
                    if (rnd.nextInt(10) == 0) {
                        d.reservation().release(); // an error path
                    } else {
                        long actual = rnd.nextLong(amount + 1); // never more than the bound
                        d.reservation().settle(actual);
                        settled.addAndGet(actual);
                    }
                    if (ledger.snapshot().spent() > limit) {
                        overspends.incrementAndGet();
                    }
                }
            });
            workers.add(w);
            w.start();
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        BudgetLedger.Snapshot end = ledger.snapshot();
        assertEquals(0, overspends.get(), "spent passed the limit during the run");
        assertEquals(0, end.reserved(), "every reservation was settled or released");
        assertEquals(settled.get(), end.spent(), "spent is exactly the sum of settled costs");
        assertTrue(end.spent() <= limit);
        assertTrue(refused.get() > 0, "the budget ran out during the run");
    }

    @Test
    void aReservationShrinksToWhatAnotherBudgetGrantedAndSettlesOnce() {
        BudgetLedger ledger = new BudgetLedger(1_000, 0);
        BudgetLedger.Reservation r = ledger.reserve(100, 800).reservation();
        assertEquals(800, ledger.snapshot().reserved());
        r.shrinkTo(300);
        assertEquals(300, r.amount());
        assertEquals(300, ledger.snapshot().reserved());
        assertEquals(700, ledger.snapshot().available());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> r.shrinkTo(400));
        assertTrue(r.settle(250));
        assertEquals(0, ledger.snapshot().reserved());
        assertEquals(250, ledger.snapshot().spent());
        r.shrinkTo(0); // after settlement: nothing left to give back, nothing changes
        assertEquals(0, ledger.snapshot().reserved());
    }
}
