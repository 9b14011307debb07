package io.ironruntime.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InFlightGateTest {
    @Test
    void queuesBeyondTheBoundAndHandsSlotsOnInArrivalOrder() {
        List<Runnable> dispatched = new ArrayList<>();
        InFlightGate gate = new InFlightGate(2, dispatched::add);
        assertNull(gate.enterOrQueue(() -> { }));
        assertTrue(gate.tryEnter());
        List<String> order = new ArrayList<>();
        InFlightGate.Ticket a = gate.enterOrQueue(() -> order.add("a"));
        InFlightGate.Ticket b = gate.enterOrQueue(() -> order.add("b"));
        InFlightGate.Ticket c = gate.enterOrQueue(() -> order.add("c"));
        assertNotNull(a);
        assertFalse(gate.tryEnter(), "no jumping the queue");
        assertEquals(3, gate.waiting());
        assertTrue(b.cancel(), "a waiter that gives up leaves the queue");
        assertEquals(2, gate.waiting());
        gate.leave();
        gate.leave();
        dispatched.forEach(Runnable::run);
        assertEquals(List.of("a", "c"), order);
        assertEquals(2, gate.active(), "the slots passed on");
        assertFalse(a.cancel(), "already granted");
        gate.leave();
        gate.leave();
        assertEquals(0, gate.active());
        assertFalse(c.cancel());
    }

    @Test
    void theBoundHoldsUnderContention() throws Exception {
        ExecutorService dispatcher = Executors.newFixedThreadPool(2);
        InFlightGate gate = new InFlightGate(4, dispatcher);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        int calls = 2_000;
        Runnable work = new Runnable() {
            @Override
            public void run() {
                int now = running.incrementAndGet();
                most.accumulateAndGet(now, Math::max);
                Thread.onSpinWait();
                running.decrementAndGet();
                done.incrementAndGet();
                gate.leave();
            }
        };
        ExecutorService callers = Executors.newFixedThreadPool(8);
        for (int i = 0; i < calls; i++) {
            callers.execute(() -> {
                if (gate.enterOrQueue(work) == null) {
                    work.run();
                }
            });
        }
        callers.shutdown();
        assertTrue(callers.awaitTermination(30, TimeUnit.SECONDS));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (done.get() < calls && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        dispatcher.shutdown();
        assertEquals(calls, done.get(), "every queued call got a slot");
        assertTrue(most.get() <= 4, "at most 4 at once, saw " + most.get());
        assertEquals(0, gate.active());
        assertEquals(0, gate.waiting());
    }
}
