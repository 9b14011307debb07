package io.ironruntime.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.provider.Provider;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The key cache's decisions, on a clock the test moves. */
class KeyCacheTest {
    private static final long S = 1_000_000_000L;
    private final ProviderKey a = new ProviderKey("sk-a", Provider.OPENAI, null);
    private final ProviderKey b = new ProviderKey("sk-b", Provider.OPENAI, null);
    private final KeyCache cache = new KeyCache(100 * S, new SplittableRandom(7));

    @Test
    void firstRequestFetchesAndOthersWaitForTheSameFetch() {
        assertEquals(KeyCache.Step.FETCH_AND_WAIT, cache.decide(0).step());
        for (int i = 0; i < 100; i++) {
            assertEquals(KeyCache.Step.WAIT, cache.decide(i).step(), "one fetch in flight, however many ask");
        }
        cache.fetched(S, a);
        KeyCache.Decision d = cache.decide(2 * S);
        assertEquals(KeyCache.Step.USE, d.step());
        assertSame(a, d.key());
    }

    @Test
    void refreshesInTheBackgroundBeforeExpiryOnceAndKeepsServing() {
        cache.decide(0);
        cache.fetched(0, a);
        assertEquals(KeyCache.Step.USE, cache.decide(79 * S).step());
        assertEquals(KeyCache.Step.USE_AND_FETCH, cache.decide(80 * S).step(), "80% of the ttl: refresh ahead");
        assertEquals(KeyCache.Step.USE, cache.decide(81 * S).step(), "the refresh is running: no second one");
        cache.fetched(82 * S, b);
        assertSame(b, cache.decide(83 * S).key());
        assertEquals(KeyCache.Step.USE, cache.decide(150 * S).step(), "ttl counts from the new fetch");
    }

    @Test
    void aFailedRefreshKeepsTheOldKeyUntilItExpiresThenFailsWithTheReason() {
        cache.decide(0);
        cache.fetched(0, a);
        cache.decide(80 * S);
        ControlFailure down = new ControlFailure("provider_key", 0, "UNREACHABLE", "Connection refused");
        cache.failed(80 * S, down);
        KeyCache.Decision stillGood = cache.decide(90 * S);
        assertEquals(KeyCache.Step.USE_AND_FETCH, stillGood.step(), "tried again after the backoff");
        assertSame(a, stillGood.key(), "the cached key serves until it expires");
        cache.failed(90 * S, down);
        KeyCache.Decision late = cache.decide(100 * S + 1);
        assertEquals(KeyCache.Step.FETCH_AND_WAIT, late.step(), "expired: the next request waits for a fetch");
        cache.failed(100 * S + 1, down);
        KeyCache.Decision fail = cache.decide(100 * S + 2);
        assertEquals(KeyCache.Step.FAIL, fail.step());
        assertNull(fail.key());
        assertSame(down, fail.failure());
        assertTrue(fail.retryInNanos() > 0);
    }

    @Test
    void failuresBackOffMoreEachTimeAndRefusalsLongerThanOutages() {
        long now = 0;
        long lastWait = 0;
        ControlFailure down = new ControlFailure("provider_key", 503, "HTTP_503", "");
        for (int i = 1; i <= 8; i++) {
            assertEquals(KeyCache.Step.FETCH_AND_WAIT, cache.decide(now).step());
            cache.failed(now, down);
            long wait = cache.decide(now).retryInNanos();
            long ceiling = Math.min(KeyCache.RETRY_CAP_NANOS, KeyCache.RETRY_BASE_NANOS << (i - 1));
            assertTrue(wait >= ceiling / 2 && wait <= ceiling, "attempt " + i + ": " + wait);
            assertTrue(wait >= lastWait / 2, "the backoff does not shrink");
            lastWait = wait;
            now += wait;
        }
        KeyCache refused = new KeyCache(100 * S, new SplittableRandom(1));
        refused.decide(0);
        refused.failed(0, new ControlFailure("provider_key", 401, "UNAUTHORIZED", "expired token"));
        assertTrue(refused.decide(0).retryInNanos() >= KeyCache.REFUSED_BASE_NANOS / 2,
                "a refusal is not asked again within seconds");
    }

    @Test
    void aKeyTheProviderRejectsIsFetchedAgainWhileStillUsed() {
        cache.decide(0);
        cache.fetched(0, a);
        cache.suspect(10 * S, b); // another key: no effect
        assertEquals(KeyCache.Step.USE, cache.decide(10 * S).step());
        cache.suspect(10 * S, a);
        KeyCache.Decision d = cache.decide(10 * S);
        assertEquals(KeyCache.Step.USE_AND_FETCH, d.step());
        assertSame(a, d.key());
    }
}
