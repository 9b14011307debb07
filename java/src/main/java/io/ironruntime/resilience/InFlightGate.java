package io.ironruntime.resilience;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Bounds the provider calls in flight ({@code max_in_flight}). Beyond the bound, callers queue in
 * arrival order; a slot given up goes straight to the longest waiter, whose continuation runs on the
 * given executor (never on the thread that gave the slot up, which may hold another exchange's lock).
 * A waiter that gives up ({@link Ticket#cancel}) leaves the queue. Thread-safe; the lock is held for
 * a counter update or a queue operation only.
 */
public final class InFlightGate {
    private final int limit;
    private final Executor dispatcher;
    private final ArrayDeque<Ticket> waiting = new ArrayDeque<>();
    private int active;

    public InFlightGate(int limit, Executor dispatcher) {
        if (limit < 1) {
            throw new IllegalArgumentException("max_in_flight must be at least 1, got " + limit);
        }
        this.limit = limit;
        this.dispatcher = dispatcher;
    }

    /** A place in the queue. */
    public final class Ticket {
        private final Runnable onGranted;
        private boolean done;

        private Ticket(Runnable onGranted) {
            this.onGranted = onGranted;
        }

        /** Leaves the queue; false when the slot was already granted (the continuation runs or ran). */
        public boolean cancel() {
            synchronized (InFlightGate.this) {
                if (done) {
                    return false;
                }
                done = true;
                waiting.remove(this);
                return true;
            }
        }
    }

    /** Takes a slot if one is free. */
    public synchronized boolean tryEnter() {
        if (active < limit && waiting.isEmpty()) {
            active++;
            return true;
        }
        return false;
    }

    /**
     * Takes a slot now ({@code null} returned; the caller goes on) or queues for one: {@code onGranted}
     * then runs on the dispatcher once a slot is handed over, unless the ticket was cancelled first.
     */
    public synchronized Ticket enterOrQueue(Runnable onGranted) {
        if (active < limit && waiting.isEmpty()) {
            active++;
            return null;
        }
        Ticket t = new Ticket(onGranted);
        waiting.add(t);
        return t;
    }

    /** Gives a slot up: to the longest waiter, if any. Exactly once per slot taken. */
    public void leave() {
        Ticket next;
        synchronized (this) {
            next = waiting.poll();
            if (next == null) {
                active--;
                return;
            }
            next.done = true; // the slot passes on: active stays the same
        }
        try {
            dispatcher.execute(next.onGranted);
        } catch (RejectedExecutionException e) {
            next.onGranted.run(); // the dispatcher is shutting down with the router: let the waiter end now
        }
    }

    public synchronized int active() {
        return active;
    }

    public synchronized int waiting() {
        return waiting.size();
    }

    public int limit() {
        return limit;
    }
}
