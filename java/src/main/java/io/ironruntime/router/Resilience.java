package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.config.ResilienceConfig;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventSink;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.resilience.Backoff;
import io.ironruntime.resilience.InFlightGate;
import io.ironruntime.resilience.RateLimiter;
import io.ironruntime.resilience.Timeouts;
import io.ironruntime.Json;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A router's defences against failing and busy providers, kept for the router's life (across stop
 * and start): circuits per upstream, the rate limiter, the in-flight gate, the retry policy and the
 * timeouts, with their counters. While the router runs it also owns the one timer thread that wakes
 * exchanges for retries, queue and call deadlines.
 */
final class Resilience {
    static final String RATE_LIMITED = "rate_limited";

    final ResilienceConfig config;
    final Circuits circuits;
    /** Null without {@code rate_limits}. */
    final RateLimiter limiter;
    final InFlightGate gate;
    final Backoff backoff;
    final int maxRetries;
    final Timeouts timeouts;
    private final EventSink events;

    final LongAdder retries = new LongAdder();
    final LongAdder rateLimited = new LongAdder();
    final LongAdder queueTimeouts = new LongAdder();
    final LongAdder connectTimeouts = new LongAdder();
    final LongAdder firstByteTimeouts = new LongAdder();
    final LongAdder idleTimeouts = new LongAdder();
    final LongAdder totalTimeouts = new LongAdder();

    LongAdder timeouts(UpstreamTimeout.Kind kind) {
        return switch (kind) {
            case FIRST_BYTE -> firstByteTimeouts;
            case IDLE -> idleTimeouts;
            case TOTAL -> totalTimeouts;
        };
    }
    final LongAdder streamFailures = new LongAdder();

    private volatile ScheduledThreadPoolExecutor timers;

    Resilience(ResilienceConfig config, EventSink events) {
        this.config = config;
        this.events = events;
        this.circuits = new Circuits(config.circuit(), events);
        this.limiter = config.rateLimits().any() ? new RateLimiter(config.rateLimits()) : null;
        this.gate = new InFlightGate(config.maxInFlight(), r -> timers().execute(r));
        this.backoff = config.backoff();
        this.maxRetries = config.maxRetries();
        this.timeouts = config.timeouts();
    }

    /** A fresh timer thread for a run of the router. */
    void start() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, UpstreamClient.daemonThreads("iron-timers"));
        t.setRemoveOnCancelPolicy(true); // cancelled deadlines (nearly all of them) must not pile up
        t.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        timers = t;
    }

    /** Stops the timer thread and waits briefly until it is gone: no engine thread may still be winding down when the JVM exits. */
    void stop() {
        ScheduledThreadPoolExecutor t = timers;
        if (t != null) {
            t.shutdownNow();
            try {
                t.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private ScheduledThreadPoolExecutor timers() {
        ScheduledThreadPoolExecutor t = timers;
        if (t == null) {
            throw new java.util.concurrent.RejectedExecutionException("the router is not running");
        }
        return t;
    }

    /** Runs {@code task} after {@code nanos}; null when the router is stopping (the exchange is being closed anyway). */
    ScheduledFuture<?> schedule(Runnable task, long nanos) {
        try {
            return timers().schedule(task, Math.max(0, nanos), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return null;
        }
    }

    /**
     * The rate-limit request stage, after metering. It takes the tokens the reservation was sized for:
     * the reservation's input figure (the UTF-8 bound, or the tokenizer's count when the reservation
     * needed it; running the tokenizer for every request would cost about 25 µs) plus the output bound.
     * The surplus comes back when the request settles. A refused request releases its reservation and
     * is answered 429 with the provider's rate-limit headers.
     */
    ErrorReply admitRate(ProxyRequest r) {
        long tokens = 0;
        if (r.charge != null && config.rateLimits().tpm() > 0) {
            tokens = r.charge.estimate.inputEstimate() + r.charge.outputBound;
        }
        RateLimiter.Decision d = limiter.tryAcquire(tokens);
        if (d.granted()) {
            if (r.charge != null && d.tokens() > 0) {
                r.charge.rateLimited(limiter, d.tokens());
            }
            return null;
        }
        if (r.charge != null) {
            r.charge.cancel();
        }
        rateLimited.increment();
        rateLimitedEvent(r.id, r.agentId(), d.refusedBy() == RateLimiter.Limit.REQUESTS ? "rpm" : "tpm", d.waitNanos());
        return RateLimitReply.of(r.provider(), d, tokens, System.currentTimeMillis());
    }

    void rateLimitedEvent(String requestId, String agentId, String limit, long waitNanos) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("limit", limit);
        p.put("retry_after", Math.ceil(waitNanos / 1e6) / 1000.0);
        events.publish(EngineEvent.of(RATE_LIMITED, agentId, requestId, p));
    }

    /** The resilience part of {@code metrics()}. */
    void addTo(ObjectNode o) {
        circuits.addTo(o);
        o.put("retries", retries.sum());
        o.put("rate_limited", rateLimited.sum());
        o.put("queue_timeouts", queueTimeouts.sum());
        o.put("queued", gate.waiting());
        o.put("upstream_in_flight", gate.active());
        o.put("max_in_flight", gate.limit());
        o.put("stream_failures", streamFailures.sum());
        ObjectNode t = o.putObject("timeouts");
        t.put("connect", connectTimeouts.sum());
        t.put("first_byte", firstByteTimeouts.sum());
        t.put("idle", idleTimeouts.sum());
        t.put("total", totalTimeouts.sum());
        ObjectNode limits = o.putObject("rate_limits");
        if (limiter != null) {
            put(limits, "rpm", limiter.requests());
            put(limits, "tpm", limiter.tokens());
        }
    }

    private static void put(ObjectNode limits, String name, RateLimiter.LimitState s) {
        if (s != null) {
            ObjectNode l = limits.putObject(name);
            l.put("limit", s.limit());
            l.put("remaining", s.remaining());
            l.put("reset", s.resetNanos() / 1e9);
        }
    }
}
