package io.ironruntime.router;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Cheap counters the router keeps about itself (lock-free; read by the health endpoint and tests). */
public final class RouterStats {
    final LongAdder requests = new LongAdder();
    final LongAdder proxied = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder upstreamFailures = new LongAdder();
    final LongAdder clientAborts = new LongAdder();
    final LongAdder streamEvents = new LongAdder();
    /** Requests answered with an error status (by the router or the provider) or cut off. */
    final LongAdder errors = new LongAdder();
    final AtomicLong inFlight = new AtomicLong();

    public long requests() {
        return requests.sum();
    }

    public long proxied() {
        return proxied.sum();
    }

    public long rejected() {
        return rejected.sum();
    }

    public long upstreamFailures() {
        return upstreamFailures.sum();
    }

    public long clientAborts() {
        return clientAborts.sum();
    }

    public long errors() {
        return errors.sum();
    }

    public long streamEvents() {
        return streamEvents.sum();
    }

    public long inFlight() {
        return inFlight.get();
    }
}
