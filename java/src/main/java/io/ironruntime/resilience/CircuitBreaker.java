package io.ironruntime.resilience;

import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * One upstream's circuit (provider + origin): closed, open, half-open. The check on the request path
 * ({@link #acquire}) is one volatile read while closed; recording an outcome takes a short lock.
 *
 * <ul>
 * <li><b>Closed</b>: calls go. It opens on {@code failureThreshold} consecutive failures, or when
 *     the failures among the last {@code window} calls (once there are {@code minimumCalls}) reach
 *     {@code failureRate}.</li>
 * <li><b>Open</b>: calls are refused for {@code recoveryTimeout}, with the time left as Retry-After.</li>
 * <li><b>Half-open</b>: up to {@code halfOpenProbes} probe calls go; when all of them succeed it
 *     closes, when one fails it opens again. Others are refused while the probes are out.</li>
 * </ul>
 * Outcomes that say nothing about the upstream's health (the client's own 4xx, 429, a client that
 * left) are recorded as {@link Outcome#NEUTRAL}: they only give a probe's slot back. Thread-safe.
 */
public final class CircuitBreaker {
    /** {@link #acquire} result: the call may go. (A negative result lets it go as a half-open probe.) */
    public static final long ALLOWED = 0;
    /** Retry-After for a call refused while the probes are out: they decide within about this long. */
    static final long PROBING_WAIT_NANOS = 1_000_000_000L;

    public enum State {
        CLOSED, OPEN, HALF_OPEN;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What a finished call says about the upstream. */
    public enum Outcome { SUCCESS, FAILURE, NEUTRAL }

    /** Sees every state change, under the breaker's lock: it must only hand the change on (an event queue). */
    public interface Listener {
        Listener NONE = (from, to, reason) -> { };

        void changed(State from, State to, String reason);
    }

    private final CircuitSettings settings;
    private final LongSupplier nanoClock;
    private final Listener listener;
    private final LongAdder rejected = new LongAdder();

    private volatile State state = State.CLOSED;
    /** While open: when probes may go (nanoClock time). */
    private volatile long openUntil;
    /** Why it is in its state (for metrics and messages). */
    private volatile String reason = "closed since the router started";

    // Guarded by this.
    private int consecutiveFailures;
    private final boolean[] window;
    private int windowNext;
    private int windowCalls;
    private int windowFailures;
    private int probesOut;
    private int probesSucceeded;
    /** Numbers the half-open rounds, so that a probe of an earlier round cannot count in this one. */
    private long round;
    private long opened;

    public CircuitBreaker(CircuitSettings settings, LongSupplier nanoClock, Listener listener) {
        this.settings = settings;
        this.nanoClock = nanoClock;
        this.listener = listener;
        this.window = new boolean[settings.window()];
    }

    /**
     * Whether a call may go now: {@link #ALLOWED}; a negative number (the call goes as a half-open
     * probe: pass the number to {@link #record}); or the nanoseconds until it is worth asking again
     * (the call is refused; the upstream sees nothing).
     */
    public long acquire() {
        if (state == State.CLOSED) {
            return ALLOWED;
        }
        return acquireSlow();
    }

    private long acquireSlow() {
        long now = nanoClock.getAsLong();
        if (state == State.OPEN) {
            long left = openUntil - now;
            if (left > 0) {
                rejected.increment();
                return left;
            }
        }
        synchronized (this) {
            if (state == State.OPEN) {
                if (openUntil - now > 0) {
                    rejected.increment();
                    return openUntil - now;
                }
                moveTo(State.HALF_OPEN, "recovery timeout elapsed");
            }
            if (state == State.CLOSED) {
                return ALLOWED;
            }
            if (probesOut + probesSucceeded < settings.halfOpenProbes()) {
                probesOut++;
                return -round;
            }
            rejected.increment();
            return PROBING_WAIT_NANOS;
        }
    }

    /**
     * Records how a call that {@link #acquire} let through ended. Exactly once per allowed call.
     *
     * @param permit what {@code acquire} returned for it ({@link #ALLOWED} or a probe's number)
     */
    public synchronized void record(long permit, Outcome outcome) {
        if (permit < 0) {
            recordProbe(-permit, outcome);
            return;
        }
        if (state != State.CLOSED || outcome == Outcome.NEUTRAL) {
            return; // a call from before the circuit opened says nothing about now
        }
        boolean failed = outcome == Outcome.FAILURE;
        consecutiveFailures = failed ? consecutiveFailures + 1 : 0;
        if (windowCalls == window.length) {
            windowFailures -= window[windowNext] ? 1 : 0;
        } else {
            windowCalls++;
        }
        window[windowNext] = failed;
        windowFailures += failed ? 1 : 0;
        windowNext = (windowNext + 1) % window.length;
        if (consecutiveFailures >= settings.failureThreshold()) {
            open(consecutiveFailures + " consecutive failures");
        } else if (failed && windowCalls >= settings.minimumCalls()
                && windowFailures >= settings.failureRate() * windowCalls) {
            open(windowFailures + " of the last " + windowCalls + " calls failed");
        }
    }

    private void recordProbe(long probeRound, Outcome outcome) {
        if (state != State.HALF_OPEN || probeRound != round) {
            return; // the probe round this belonged to is over
        }
        probesOut--;
        if (outcome == Outcome.FAILURE) {
            open("a half-open probe failed");
        } else if (outcome == Outcome.SUCCESS && ++probesSucceeded >= settings.halfOpenProbes()) {
            moveTo(State.CLOSED, probesSucceeded + " probe" + (probesSucceeded == 1 ? "" : "s") + " succeeded");
        }
    }

    private void open(String reason) {
        openUntil = nanoClock.getAsLong() + settings.recoveryTimeout().toNanos();
        opened++;
        moveTo(State.OPEN, reason);
    }

    private void moveTo(State to, String reason) {
        State from = state;
        consecutiveFailures = 0;
        windowNext = 0;
        windowCalls = 0;
        windowFailures = 0;
        probesOut = 0;
        probesSucceeded = 0;
        if (to == State.HALF_OPEN) {
            round++;
        }
        state = to;
        this.reason = reason;
        listener.changed(from, to, reason);
    }

    public State state() {
        return state;
    }

    /** Nanoseconds until an open circuit lets probes through; 0 unless open. */
    public long untilHalfOpen() {
        return state == State.OPEN ? Math.max(0, openUntil - nanoClock.getAsLong()) : 0;
    }

    /** Why the circuit entered its current state, e.g. "5 consecutive failures" (not updated by later calls). */
    public String reason() {
        return reason;
    }

    /** Calls refused so far. */
    public long rejected() {
        return rejected.sum();
    }

    /** How many times it opened. */
    public synchronized long timesOpened() {
        return opened;
    }

    public synchronized int consecutiveFailures() {
        return consecutiveFailures;
    }

    public CircuitSettings settings() {
        return settings;
    }
}
