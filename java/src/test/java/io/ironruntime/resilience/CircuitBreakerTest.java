package io.ironruntime.resilience;

import static io.ironruntime.resilience.CircuitBreaker.ALLOWED;
import static io.ironruntime.resilience.CircuitBreaker.Outcome.FAILURE;
import static io.ironruntime.resilience.CircuitBreaker.Outcome.NEUTRAL;
import static io.ironruntime.resilience.CircuitBreaker.Outcome.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.resilience.CircuitBreaker.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final List<String> changes = new ArrayList<>();

    private CircuitBreaker breaker(CircuitSettings s) {
        return new CircuitBreaker(s, now::get, (from, to, why) -> changes.add(from + ">" + to + ": " + why));
    }

    private static CircuitSettings settings(int threshold, double rate, int window, int minimum, int probes) {
        return new CircuitSettings(threshold, rate, window, minimum, Duration.ofSeconds(30), probes);
    }

    private static void call(CircuitBreaker b, CircuitBreaker.Outcome outcome) {
        long permit = b.acquire();
        assertTrue(permit <= 0, "refused: " + permit);
        b.record(permit, outcome);
    }

    @Test
    void consecutiveFailuresOpenItAndASuccessInBetweenStartsTheCountAgain() {
        CircuitBreaker b = breaker(settings(3, 1.0, 20, 20, 1));
        call(b, FAILURE);
        call(b, FAILURE);
        call(b, SUCCESS);
        call(b, FAILURE);
        call(b, FAILURE);
        assertEquals(State.CLOSED, b.state());
        call(b, NEUTRAL); // a 4xx of the client's own or a 429 says nothing about the upstream
        call(b, FAILURE);
        assertEquals(State.OPEN, b.state());
        assertEquals(List.of("CLOSED>OPEN: 3 consecutive failures"), changes);
    }

    @Test
    void whileOpenCallsAreRefusedWithTheTimeLeftThenProbesDecide() {
        CircuitBreaker b = breaker(settings(2, 1.0, 20, 20, 2));
        call(b, FAILURE);
        call(b, FAILURE);
        long wait = b.acquire();
        assertEquals(Duration.ofSeconds(30).toNanos(), wait);
        now.addAndGet(Duration.ofSeconds(20).toNanos());
        assertEquals(Duration.ofSeconds(10).toNanos(), b.acquire());
        assertEquals(Duration.ofSeconds(10).toNanos(), b.untilHalfOpen());
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        long p1 = b.acquire();
        long p2 = b.acquire();
        assertTrue(p1 < 0 && p2 < 0, "two probes go");
        assertEquals(State.HALF_OPEN, b.state());
        assertEquals(CircuitBreaker.PROBING_WAIT_NANOS, b.acquire(), "a third waits for the probes");
        b.record(p1, SUCCESS);
        assertEquals(State.HALF_OPEN, b.state(), "closes only when every probe succeeded");
        b.record(p2, SUCCESS);
        assertEquals(State.CLOSED, b.state());
        assertEquals(ALLOWED, b.acquire());
        assertEquals(3, b.rejected());
    }

    @Test
    void aFailedProbeOpensItAgainAndALateProbeOfThatRoundCountsForNothing() {
        CircuitBreaker b = breaker(settings(1, 1.0, 20, 20, 2));
        call(b, FAILURE);
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        long p1 = b.acquire();
        long p2 = b.acquire();
        b.record(p1, FAILURE);
        assertEquals(State.OPEN, b.state());
        assertEquals(Duration.ofSeconds(30).toNanos(), b.acquire(), "a full recovery timeout again");
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        long p3 = b.acquire();
        long p4 = b.acquire();
        b.record(p2, SUCCESS); // from the round before: must not count
        b.record(p3, SUCCESS);
        assertEquals(State.HALF_OPEN, b.state());
        b.record(p4, SUCCESS);
        assertEquals(State.CLOSED, b.state());
        assertEquals(2, b.timesOpened());
    }

    @Test
    void aNeutralProbeGivesItsSlotBack() {
        CircuitBreaker b = breaker(settings(1, 1.0, 20, 20, 1));
        call(b, FAILURE);
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        long p = b.acquire();
        assertTrue(b.acquire() > 0);
        b.record(p, NEUTRAL); // the client left before the upstream answered
        long again = b.acquire();
        assertTrue(again < 0, "the slot is free for another probe");
        b.record(again, SUCCESS);
        assertEquals(State.CLOSED, b.state());
    }

    @Test
    void aFailureRateOverTheWindowOpensItOnceEnoughCallsWereSeen() {
        CircuitBreaker b = breaker(settings(100, 0.5, 10, 6, 1));
        for (int i = 0; i < 2; i++) {
            call(b, FAILURE);
            call(b, SUCCESS);
        }
        assertEquals(State.CLOSED, b.state(), "2 of 4: fewer calls than the minimum");
        call(b, FAILURE);
        assertEquals(State.CLOSED, b.state(), "3 of 5");
        call(b, FAILURE);
        assertEquals(State.OPEN, b.state(), "4 of 6 reach one half");
        assertEquals("CLOSED>OPEN: 4 of the last 6 calls failed", changes.get(0));
    }

    @Test
    void theWindowSlidesOldFailuresOut() {
        CircuitBreaker b = breaker(settings(100, 0.5, 4, 4, 1));
        call(b, FAILURE);
        for (int i = 0; i < 20; i++) {
            call(b, SUCCESS);
            call(b, SUCCESS);
            call(b, SUCCESS);
            call(b, FAILURE); // 1 of every 4: below half however long it runs
        }
        assertEquals(State.CLOSED, b.state());
    }

    @Test
    void underConcurrencyNoMoreProbesGoThanTheBound() throws Exception {
        // a real clock and a short recovery timeout, waited out
        CircuitBreaker fast = new CircuitBreaker(new CircuitSettings(1, 1.0, 20, 20, Duration.ofMillis(1), 3),
                System::nanoTime, CircuitBreaker.Listener.NONE);
        fast.record(fast.acquire(), FAILURE);
        Thread.sleep(5);
        AtomicInteger probes = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Long> permits = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 16; t++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 1_000; i++) {
                    long p = fast.acquire();
                    if (p < 0) {
                        probes.incrementAndGet();
                        permits.add(p);
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        go.countDown();
        for (Thread th : threads) {
            th.join();
        }
        assertEquals(3, probes.get(), "exactly the bound of probes went out");
        permits.forEach(p -> fast.record(p, SUCCESS));
        assertEquals(State.CLOSED, fast.state());
    }

    @Test
    void settingsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> settings(0, 0.5, 20, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> settings(5, 0, 20, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> settings(5, 1.5, 20, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> settings(5, 0.5, 20, 30, 1));
        assertThrows(IllegalArgumentException.class, () -> settings(5, 0.5, 20, 10, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new CircuitSettings(5, 0.5, 20, 10, Duration.ZERO, 1));
    }
}
