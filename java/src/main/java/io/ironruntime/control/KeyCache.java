package io.ironruntime.control;

import java.util.random.RandomGenerator;

/**
 * When to use, fetch or give up on the provider key: pure, with the clock passed in (nanoseconds).
 * A key is used for its time to live and fetched again in the background from {@link #REFRESH_AT_PPM}
 * of it; only one fetch runs at a time; after a failure the next fetch waits a backoff that grows
 * with each failure in a row (faster for a server that is down than for one that refused).
 */
final class KeyCache {
    /** Refresh in the background once this share of the time to live has passed. */
    static final int REFRESH_AT_PPM = 800_000;
    static final long RETRY_BASE_NANOS = 1_000_000_000L;
    static final long RETRY_CAP_NANOS = 60_000_000_000L;
    static final long REFUSED_BASE_NANOS = 15_000_000_000L;
    static final long REFUSED_CAP_NANOS = 300_000_000_000L;

    /** What a request should do. */
    enum Step {
        /** Use the key. */
        USE,
        /** Use the key, and start a background fetch (the caller starts it). */
        USE_AND_FETCH,
        /** No usable key; a fetch is running: wait for it. */
        WAIT,
        /** No usable key; start a fetch (the caller starts it) and wait for it. */
        FETCH_AND_WAIT,
        /** No usable key and none will come before {@link Decision#retryInNanos}. */
        FAIL
    }

    record Decision(Step step, ProviderKey key, ControlFailure failure, long retryInNanos) {
    }

    private final long ttlNanos;
    private final RandomGenerator random;
    private ProviderKey key;
    private long fetchedAt;
    private boolean fetching;
    private ControlFailure failure;
    private int failuresInRow;
    private long retryAt;
    private boolean retryAtSet;

    KeyCache(long ttlNanos, RandomGenerator random) {
        this.ttlNanos = ttlNanos;
        this.random = random;
    }

    synchronized Decision decide(long now) {
        boolean mayFetch = !fetching && (!retryAtSet || now - retryAt >= 0);
        if (key != null && now - fetchedAt < ttlNanos) {
            boolean due = now - fetchedAt >= ttlNanos / 1_000_000 * REFRESH_AT_PPM;
            if (due && mayFetch) {
                fetching = true;
                return new Decision(Step.USE_AND_FETCH, key, failure, 0);
            }
            return new Decision(Step.USE, key, failure, 0);
        }
        if (fetching) {
            return new Decision(Step.WAIT, null, failure, 0);
        }
        if (mayFetch) {
            fetching = true;
            return new Decision(Step.FETCH_AND_WAIT, null, failure, 0);
        }
        return new Decision(Step.FAIL, null, failure, retryAt - now);
    }

    synchronized void fetched(long now, ProviderKey k) {
        key = k;
        fetchedAt = now;
        fetching = false;
        failure = null;
        failuresInRow = 0;
        retryAtSet = false;
    }

    synchronized void failed(long now, ControlFailure f) {
        fetching = false;
        failure = f;
        failuresInRow++;
        retryAt = now + (f.retryable() ? Retry.nanos(failuresInRow, RETRY_BASE_NANOS, RETRY_CAP_NANOS, random)
                : Retry.nanos(failuresInRow, REFUSED_BASE_NANOS, REFUSED_CAP_NANOS, random));
        retryAtSet = true;
    }

    /**
     * The provider refused the key: it may have been rotated. Fetch again as soon as the backoff allows,
     * still using the key until a new one comes.
     */
    synchronized void suspect(long now, ProviderKey used) {
        if (key != null && key.equals(used) && now - fetchedAt < ttlNanos) {
            fetchedAt = Math.min(fetchedAt, now - ttlNanos / 1_000_000 * REFRESH_AT_PPM);
        }
    }

    synchronized ProviderKey key() {
        return key;
    }

    synchronized ControlFailure failure() {
        return failure;
    }

    /** Nanoseconds the key is still good for (negative once expired), or null without a key. */
    synchronized Long expiresIn(long now) {
        return key == null ? null : fetchedAt + ttlNanos - now;
    }
}
