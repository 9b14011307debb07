package io.ironruntime.telemetry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventBus;
import io.ironruntime.events.EventQueue;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live feed's subscribers (SSE streams, WebSockets) and the one thread that feeds them. Each
 * subscriber has its own bounded {@link EventQueue} on the engine's {@link EventBus}, so publishing
 * stays one offer per subscriber on the publishing (I/O) thread. Every few milliseconds the feed
 * thread drains each queue, turns the events into {@link FeedProtocol} messages (once per event,
 * whatever the number of subscribers) and hands them to the subscriber's {@link FeedClient}, which
 * only queues them. A subscriber that does not drain its socket, or whose queue overflowed, is
 * disconnected and counted: it never holds up the proxy or the other subscribers.
 */
public final class FeedHub {
    private static final Logger LOG = LoggerFactory.getLogger(FeedHub.class);
    /** Events per subscriber per round; the rest wait for the next round, so one busy queue cannot starve the others. */
    static final int MAX_BATCH = 1_024;
    /** Pause between rounds: bounds the delivery delay, like {@link EventQueue}'s consumers. */
    static final long ROUND_MILLIS = 10;

    private final EventBus bus;
    private final Supplier<ObjectNode> routerMetrics;
    private final BooleanSupplier routerRunning;
    private final Function<String, ObjectNode> agentFigures;
    private final long heartbeatMillis;
    private final int queueCapacity;
    private final CopyOnWriteArrayList<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private final LongAdder authFailures = new LongAdder();
    private ScheduledThreadPoolExecutor thread;
    /** The periodic rounds and heartbeats: scheduled only while someone listens, so an idle router pays nothing. */
    private ScheduledFuture<?> rounds;
    private ScheduledFuture<?> beats;

    /** Reused by the feed thread only. */
    private final List<EngineEvent> batch = new ArrayList<>();
    private final Map<EngineEvent, List<FeedMessage>> translated = new IdentityHashMap<>();
    private FeedMessage routerSnapshot;

    /**
     * @param routerMetrics   the router's snapshot ({@code router.metrics()}), read on the feed thread
     * @param agentFigures    an agent's figures by id ({@code budget_spent}, ...), or null when unknown
     * @param heartbeatMillis how often every subscriber hears a {@code HEARTBEAT} (the protocol says 30 s)
     * @param queueCapacity   each subscriber's event buffer
     */
    public FeedHub(EventBus bus, Supplier<ObjectNode> routerMetrics, BooleanSupplier routerRunning,
            Function<String, ObjectNode> agentFigures, long heartbeatMillis, int queueCapacity) {
        if (heartbeatMillis < 1) {
            throw new IllegalArgumentException("heartbeatMillis must be positive");
        }
        this.bus = bus;
        this.routerMetrics = routerMetrics;
        this.routerRunning = routerRunning;
        this.agentFigures = agentFigures;
        this.heartbeatMillis = heartbeatMillis;
        this.queueCapacity = queueCapacity;
    }

    /** Starts the feed thread (a daemon). Idempotent. */
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "iron-runtime-feed");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        thread = t;
        if (!subscriptions.isEmpty()) {
            resume();
        }
    }

    /** Call with the lock held and the thread running. */
    private void resume() {
        rounds = thread.scheduleWithFixedDelay(() -> {
            guarded(this::dispatch);
            pauseIfIdle();
        }, ROUND_MILLIS, ROUND_MILLIS, TimeUnit.MILLISECONDS);
        beats = thread.scheduleAtFixedRate(() -> guarded(this::heartbeat), heartbeatMillis, heartbeatMillis,
                TimeUnit.MILLISECONDS);
    }

    private synchronized void pauseIfIdle() {
        if (subscriptions.isEmpty() && rounds != null) {
            rounds.cancel(false);
            beats.cancel(false);
            rounds = null;
            beats = null;
        }
    }

    /** True while no rounds are scheduled (nobody listens, or the hub is stopped). */
    synchronized boolean idle() {
        return rounds == null;
    }

    /**
     * Delivers what is queued (the router's last events), then disconnects every subscriber and ends
     * the feed thread. Idempotent; the hub can start again.
     */
    public void stop() {
        ScheduledThreadPoolExecutor t;
        synchronized (this) {
            t = thread;
            thread = null;
            rounds = null;
            beats = null;
        }
        if (t == null) {
            return;
        }
        try {
            t.submit(() -> {
                guarded(this::dispatch);
                for (Subscription s : subscriptions) {
                    end(s, FeedClient.Close.STOPPING, false);
                }
            }).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("the live feed did not stop cleanly ({})", e.toString());
        } finally {
            t.shutdownNow();
        }
    }

    /**
     * A new subscriber: it hears the router's {@code STATE_UPDATE} first, then every event published
     * from now on that {@code filter} accepts. Any thread.
     */
    public Subscription subscribe(String name, FeedFilter filter, FeedClient client) {
        Subscription s = new Subscription(bus.subscribe(name, queueCapacity), filter, client);
        synchronized (this) {
            subscriptions.add(s);
            if (thread != null && rounds == null) {
                resume();
            }
        }
        return s;
    }

    /** Runs {@code task} on the feed thread after {@code delayMillis} (a WebSocket's authentication deadline). */
    public synchronized void schedule(Runnable task, long delayMillis) {
        if (thread != null) {
            thread.schedule(() -> guarded(task), delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    // ---- the feed thread ------------------------------------------------------------------------------

    private static void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException | Error e) { // a periodic task that throws is never run again
            LOG.warn("live feed round failed", e);
        }
    }

    /** One round: every subscriber's queued events, in order, then a router snapshot when they changed it. */
    void dispatch() {
        translated.clear();
        routerSnapshot = null;
        for (Subscription s : subscriptions) {
            if (!s.closed) {
                feed(s);
            }
        }
    }

    private void feed(Subscription s) {
        if (!s.greeted) {
            s.greeted = true;
            if (s.filter.accepts(FeedProtocol.STATE_UPDATE) && !deliver(s, snapshot())) {
                return;
            }
        }
        // A round's messages leave together at its end (flush), so a socket hears of them once.
        batch.clear();
        s.queue.drainTo(batch, MAX_BATCH);
        if (s.queue.dropped() > 0) {
            end(s, FeedClient.Close.OVERFLOW, true);
            return;
        }
        boolean changed = false;
        for (EngineEvent e : batch) {
            for (FeedMessage m : translated.computeIfAbsent(e, ev -> FeedProtocol.messages(ev, agentFigures))) {
                if (s.filter.accepts(m.type()) && !deliver(s, m)) {
                    return;
                }
            }
            changed |= FeedProtocol.changesRouterState(e);
        }
        if (changed && s.filter.accepts(FeedProtocol.STATE_UPDATE) && !deliver(s, snapshot())) {
            return;
        }
        flush(s);
    }

    /** The router's snapshot, taken at most once per round. */
    private FeedMessage snapshot() {
        if (routerSnapshot == null) {
            routerSnapshot = FeedProtocol.routerState(System.currentTimeMillis(), routerRunning.getAsBoolean(),
                    routerMetrics.get());
        }
        return routerSnapshot;
    }

    void heartbeat() {
        FeedMessage beat = FeedProtocol.heartbeat(System.currentTimeMillis());
        for (Subscription s : subscriptions) {
            if (!s.closed && s.greeted && deliver(s, beat)) {
                flush(s);
            }
        }
    }

    /** False when the subscriber is gone or was just dropped for not draining. */
    private boolean deliver(Subscription s, FeedMessage m) {
        if (s.closed) {
            return false;
        }
        if (s.client.send(m)) {
            sent.increment();
            return true;
        }
        end(s, FeedClient.Close.TOO_SLOW, true);
        return false;
    }

    private void flush(Subscription s) {
        if (!s.closed && !s.client.flush()) {
            end(s, FeedClient.Close.TOO_SLOW, true);
        }
    }

    /** The hub ends {@code s}: counted as dropped when it was cut off rather than left or stopped. */
    private void end(Subscription s, FeedClient.Close why, boolean drop) {
        boolean wasOpen = !s.closed;
        s.release();
        if (drop) {
            // Counted even when the client's own send already closed it (an SSE stream over its bound).
            dropped.increment();
            LOG.info("live feed subscriber {} dropped ({})", s.queue.name(), why);
        }
        if (wasOpen || drop) {
            s.client.close(why);
        }
    }

    // ---- counters -------------------------------------------------------------------------------------

    public int subscribers() {
        return subscriptions.size();
    }

    /** Subscribers disconnected for not keeping up. */
    public long dropped() {
        return dropped.sum();
    }

    public long sent() {
        return sent.sum();
    }

    /** WebSocket clients turned away for a wrong or missing token. */
    public long authFailures() {
        return authFailures.sum();
    }

    public void countAuthFailure() {
        authFailures.increment();
    }

    /** One subscriber's registration. {@link #close()} when its client leaves. */
    public final class Subscription {
        private final EventQueue queue;
        private final FeedFilter filter;
        private final FeedClient client;
        private volatile boolean closed;
        /** Feed thread only. */
        private boolean greeted;

        private Subscription(EventQueue queue, FeedFilter filter, FeedClient client) {
            this.queue = queue;
            this.filter = filter;
            this.client = client;
        }

        /** The client left: nothing more is sent; not counted as dropped. Idempotent, any thread. */
        public void close() {
            release();
        }

        private synchronized void release() {
            if (!closed) {
                closed = true;
                subscriptions.remove(this);
                bus.unsubscribe(queue);
            }
        }
    }
}
