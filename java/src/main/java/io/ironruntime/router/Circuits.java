package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventSink;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import io.ironruntime.resilience.CircuitBreaker;
import io.ironruntime.resilience.CircuitSettings;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One circuit breaker per upstream (provider + origin), made on first use and kept for the router's
 * life. State changes become {@code circuit_state_changed} events. The lookup on the request path is
 * a field read when the origin is the one seen last for the provider (the usual case), a map lookup
 * otherwise.
 */
public final class Circuits {
    private static final Logger LOG = LoggerFactory.getLogger(Circuits.class);
    static final String CIRCUIT_STATE_CHANGED = "circuit_state_changed";

    private final CircuitSettings settings;
    private final EventSink events;
    private final ConcurrentHashMap<String, Last> byUpstream = new ConcurrentHashMap<>();
    /** By provider ordinal: the origin seen last and its breaker. */
    private final AtomicReferenceArray<Last> last = new AtomicReferenceArray<>(Provider.values().length);

    /** An upstream's origin and its breaker. */
    private record Last(URI origin, CircuitBreaker breaker) {
    }

    /** @param settings null when circuit breaking is off */
    public Circuits(CircuitSettings settings, EventSink events) {
        this.settings = settings;
        this.events = events;
    }

    boolean enabled() {
        return settings != null;
    }

    /** The breaker for this upstream; null when circuit breaking is off. */
    public CircuitBreaker of(Provider provider, URI origin) {
        if (settings == null) {
            return null;
        }
        Last l = last.get(provider.ordinal());
        if (l != null && l.origin == origin) {
            return l.breaker;
        }
        Last made = byUpstream.computeIfAbsent(key(provider, origin), k -> new Last(origin, new CircuitBreaker(settings,
                System::nanoTime, (from, to, reason) -> changed(k, provider, origin, from, to, reason))));
        last.set(provider.ordinal(), made);
        return made.breaker;
    }

    static String key(Provider provider, URI origin) {
        return provider.wireName() + "@" + origin;
    }

    /** Runs under the breaker's lock: only hands the change on. */
    private void changed(String key, Provider provider, URI origin, CircuitBreaker.State from, CircuitBreaker.State to,
            String reason) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("upstream", key);
        p.put("provider", provider.wireName());
        p.put("origin", origin.toString());
        p.put("from", from.wireName());
        p.put("to", to.wireName());
        p.put("reason", reason);
        if (to == CircuitBreaker.State.OPEN) {
            p.put("retry_after", settings.recoveryTimeout().toMillis() / 1000.0);
            LOG.warn("circuit for {} opened ({}): requests are refused for {} s", key, reason,
                    settings.recoveryTimeout().toMillis() / 1000.0);
        } else {
            LOG.info("circuit for {} is {} ({})", key, to.wireName(), reason);
        }
        events.publish(EngineEvent.of(CIRCUIT_STATE_CHANGED, null, null, p));
    }

    /** The 503 for a request refused by an open (or probing) circuit, with Retry-After. */
    static ErrorReply refusal(CircuitBreaker b, Provider provider, URI origin, long waitNanos) {
        long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
        String message = b.state() == CircuitBreaker.State.HALF_OPEN
                ? "The circuit for " + provider.wireName() + " at " + origin + " is half-open: probe requests are"
                        + " checking whether the provider recovered. Retry in " + seconds + " s."
                : "The circuit for " + provider.wireName() + " at " + origin + " is open (" + b.reason() + "): the"
                        + " router sends it no requests for " + seconds + " s, then lets a probe through."
                        + " Retry after that; LlmRouter(circuit_breaker=...) sets this.";
        return ErrorReply.circuitOpen(message).withHeaders(RateLimitReply.retryAfter(waitNanos));
    }

    /** One upstream's circuit as Prometheus shows it. */
    record UpstreamCircuit(Provider provider, URI origin, CircuitBreaker.State state, long rejected) {
    }

    /** The circuits of the upstreams called so far (none when circuit breaking is off). */
    java.util.List<UpstreamCircuit> upstreams() {
        java.util.List<UpstreamCircuit> out = new java.util.ArrayList<>();
        for (Map.Entry<String, Last> e : byUpstream.entrySet()) {
            String provider = e.getKey().substring(0, e.getKey().indexOf('@'));
            CircuitBreaker b = e.getValue().breaker;
            out.add(new UpstreamCircuit(Provider.ofWireName(provider), e.getValue().origin, b.state(), b.rejected()));
        }
        return out;
    }

    /** {@code metrics()["circuits"]}: one entry per upstream called so far. */
    void addTo(ObjectNode metrics) {
        ObjectNode all = metrics.putObject("circuits");
        long rejected = 0;
        for (Map.Entry<String, Last> e : new java.util.TreeMap<>(byUpstream).entrySet()) {
            CircuitBreaker b = e.getValue().breaker;
            ObjectNode o = all.putObject(e.getKey());
            o.put("provider", e.getKey().substring(0, e.getKey().indexOf('@')));
            o.put("origin", e.getValue().origin.toString());
            o.put("state", b.state().wireName());
            o.put("reason", b.reason());
            o.put("retry_after", b.untilHalfOpen() / 1e9);
            o.put("consecutive_failures", b.consecutiveFailures());
            o.put("times_opened", b.timesOpened());
            o.put("rejected", b.rejected());
            rejected += b.rejected();
        }
        metrics.put("circuit_rejected", rejected);
        metrics.put("circuit_breaker", settings != null);
    }
}
