package io.ironruntime.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.bucket4j.TimeMeter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    /** A clock the test moves. */
    static final class Clock implements TimeMeter {
        long nanos = 1_000_000_000L;

        @Override
        public long currentTimeNanos() {
            return nanos;
        }

        @Override
        public boolean isWallClockBased() {
            return false;
        }

        void advanceMillis(long ms) {
            nanos += ms * 1_000_000L;
        }
    }

    @Test
    void requestsPerMinuteAllowABurstThenRefillContinuously() {
        Clock clock = new Clock();
        RateLimiter l = new RateLimiter(new RateLimits(60, 0), clock);
        for (int i = 0; i < 60; i++) {
            assertTrue(l.tryAcquire(0).granted(), "request " + i + " of the burst");
        }
        RateLimiter.Decision refused = l.tryAcquire(0);
        assertFalse(refused.granted());
        assertEquals(RateLimiter.Limit.REQUESTS, refused.refusedBy());
        assertEquals(1_000_000_000L, refused.waitNanos(), "60 per minute: one more after a second");
        assertEquals(0, refused.requests().remaining());
        assertEquals(60_000_000_000L, refused.requests().resetNanos(), "a full bucket a minute later");
        assertNull(refused.tokensState());
        clock.advanceMillis(999);
        assertFalse(l.tryAcquire(0).granted());
        clock.advanceMillis(1);
        assertTrue(l.tryAcquire(0).granted());
        clock.advanceMillis(30_000);
        assertEquals(30, l.requests().remaining());
        assertEquals(30_000_000_000L, l.requests().resetNanos());
    }

    @Test
    void tokensAreTakenUpFrontAndCorrectedFromUsage() {
        Clock clock = new Clock();
        RateLimiter l = new RateLimiter(new RateLimits(0, 1_000), clock);
        RateLimiter.Decision a = l.tryAcquire(400);
        RateLimiter.Decision b = l.tryAcquire(400);
        assertTrue(a.granted() && b.granted());
        assertEquals(200, l.tokens().remaining());
        RateLimiter.Decision c = l.tryAcquire(400);
        assertFalse(c.granted());
        assertEquals(RateLimiter.Limit.TOKENS, c.refusedBy());
        assertEquals(12_000_000_000L, c.waitNanos(), "200 missing at 1000 per minute: 12 s");
        l.correct(a.tokens(), 50); // used far less than its bound: the rest comes back
        assertEquals(550, l.tokens().remaining());
        assertTrue(l.tryAcquire(400).granted());
        l.correct(b.tokens(), 900); // used more than estimated: the bucket goes into debt
        assertEquals(0, l.tokens().remaining());
        assertFalse(l.tryAcquire(1).granted());
    }

    @Test
    void oneRequestLargerThanTheLimitGoesWhenTheBucketIsFull() {
        RateLimiter l = new RateLimiter(new RateLimits(0, 1_000), new Clock());
        RateLimiter.Decision d = l.tryAcquire(50_000);
        assertTrue(d.granted());
        assertEquals(1_000, d.tokens(), "capped at the limit");
        assertFalse(l.tryAcquire(1).granted());
    }

    @Test
    void aRefusalByTokensGivesTheRequestTokenBack() {
        Clock clock = new Clock();
        RateLimiter l = new RateLimiter(new RateLimits(10, 100), clock);
        assertTrue(l.tryAcquire(100).granted());
        for (int i = 0; i < 5; i++) {
            assertFalse(l.tryAcquire(10).granted());
        }
        assertEquals(9, l.requests().remaining(), "refused requests took no request token");
        RateLimiter.Decision d = l.tryAcquire(0);
        assertTrue(d.granted());
        l.giveBack(d);
        assertEquals(9, l.requests().remaining());
    }

    @Test
    void neverGrantsMoreThanTheLimitUnderContention() throws Exception {
        RateLimiter l = new RateLimiter(new RateLimits(1_000, 0), new Clock()); // a frozen clock: no refill
        AtomicInteger granted = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[8];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 500; i++) {
                    if (l.tryAcquire(0).granted()) {
                        granted.incrementAndGet();
                    }
                }
            });
            threads[t].start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(1_000, granted.get());
    }
}
