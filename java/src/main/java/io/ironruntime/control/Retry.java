package io.ironruntime.control;

import java.util.random.RandomGenerator;

/**
 * How long to wait after failures in a row: exponential from {@code base} to {@code cap}, with equal jitter
 * (at least half the ceiling, so a fleet of routers does not come back in step). Pure.
 */
final class Retry {
    private Retry() {
    }

    static long nanos(int failuresInRow, long baseNanos, long capNanos, RandomGenerator random) {
        long ceiling = Math.min(capNanos, baseNanos << Math.min(Math.max(failuresInRow, 1) - 1, 20));
        return ceiling / 2 + random.nextLong(ceiling / 2 + 1);
    }
}
