package io.ironruntime.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.config.ConfigException;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventSink;
import io.ironruntime.provider.Provider;
import java.io.IOException;
import java.net.URI;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The provider key from the Iron Cage server ({@code POST /api/v1/agents/provider-key}), cached for its
 * time to live and fetched again in the background before it expires, one fetch at a time on a thread
 * of its own. Requests ask {@link #lookup()}: the key, a fetch to wait for, or why there is none.
 */
final class ProviderKeys implements AutoCloseable {
    static final String OPERATION = "provider_key";

    private final ControlClient client;
    private final KeyCache cache;
    private final EventSink events;
    private final ExecutorService fetcher;
    /** Completes when the running (or last) fetch ends; guarded by this. */
    private CompletableFuture<Void> fetch = CompletableFuture.completedFuture(null);
    final LongAdder fetches = new LongAdder();
    final LongAdder failures = new LongAdder();

    /** What a request gets: exactly one of the key, a fetch to wait for, or the failure (with when to retry). */
    record Lookup(ProviderKey key, CompletableFuture<Void> pending, ControlFailure failure, long retryInNanos) {
    }

    ProviderKeys(ControlClient client, long ttlNanos, EventSink events) {
        this.client = client;
        this.cache = new KeyCache(ttlNanos, java.util.concurrent.ThreadLocalRandom.current());
        this.events = events;
        this.fetcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "iron-control-keys");
            t.setDaemon(true);
            return t;
        });
    }

    /** Cheap and non-blocking: runs on the request's I/O thread. */
    synchronized Lookup lookup() {
        KeyCache.Decision d = cache.decide(System.nanoTime());
        switch (d.step()) {
            case USE:
                return new Lookup(d.key(), null, null, 0);
            case USE_AND_FETCH:
                startFetch();
                return new Lookup(d.key(), null, null, 0);
            case WAIT:
                return new Lookup(null, fetch, null, 0);
            case FETCH_AND_WAIT:
                return new Lookup(null, startFetch(), null, 0);
            default:
                return new Lookup(null, null, d.failure(), d.retryInNanos());
        }
    }

    /** Gets a key now if there is none (or it expired), waiting at most {@code timeoutMillis}; for start-up. */
    Lookup await(long timeoutMillis) {
        Lookup l = lookup();
        if (l.pending() != null) {
            try {
                l.pending().get(timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                return l; // still fetching (the future never fails: a failed fetch completes it normally)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return l;
            }
            return lookup();
        }
        return l;
    }

    /** The provider rejected this key upstream (401): it may have been rotated, so fetch again soon. */
    void suspect(ProviderKey used) {
        cache.suspect(System.nanoTime(), used);
    }

    ProviderKey current() {
        return cache.key();
    }

    ControlFailure lastFailure() {
        return cache.failure();
    }

    Long expiresInNanos() {
        return cache.expiresIn(System.nanoTime());
    }

    /** Guarded by this: the cache has just said a fetch may start. */
    private CompletableFuture<Void> startFetch() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        fetch = done;
        try {
            fetcher.execute(() -> {
                try {
                    fetchOnce();
                } finally {
                    done.complete(null);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            cache.failed(System.nanoTime(), new ControlFailure(OPERATION, 0, "STOPPED", "the router is closing"));
            done.complete(null);
        }
        return done;
    }

    private void fetchOnce() {
        ControlFailure failure;
        try {
            ControlClient.Reply reply = client.post(ControlClient.PROVIDER_KEY, client.bodyWithToken(), false);
            if (reply.ok()) {
                ProviderKey key = parse(reply.body());
                ProviderKey before = cache.key();
                cache.fetched(System.nanoTime(), key);
                fetches.increment();
                if (before == null || before.provider() != key.provider() || !Objects.equals(before.origin(), key.origin())) {
                    ObjectNode p = Json.MAPPER.createObjectNode();
                    p.put("provider", key.provider().wireName());
                    p.put("base_url", key.origin() == null ? null : key.origin().toString());
                    events.publish(EngineEvent.of(EngineEvent.PROVIDER_KEY_FETCHED, null, null, p));
                }
                return;
            }
            failure = ControlFailure.of(OPERATION, reply);
        } catch (InvalidKeyReply e) {
            failure = ControlFailure.invalid(OPERATION, 200, e.getMessage());
        } catch (IOException | RuntimeException e) {
            failure = ControlFailure.unreachable(OPERATION, e instanceof IOException io ? io : new IOException(e));
        }
        long now = System.nanoTime();
        cache.failed(now, failure);
        failures.increment();
        ControlEvents.error(events, failure, client.server());
    }

    private static final class InvalidKeyReply extends Exception {
        InvalidKeyReply(String message) {
            super(message);
        }
    }

    private static ProviderKey parse(JsonNode b) throws InvalidKeyReply {
        JsonNode k = b.path("provider_key");
        if (!k.isTextual() || k.asText().isBlank()) {
            throw new InvalidKeyReply("the reply has no provider_key");
        }
        String key;
        try {
            key = RouterConfigReader.checkedKey("the provider_key", k.asText());
        } catch (ConfigException e) {
            throw new InvalidKeyReply(e.getMessage());
        }
        Provider provider = Provider.ofWireName(b.path("provider").asText(""));
        if (provider == null) {
            throw new InvalidKeyReply("unknown provider '" + ControlFailure.printable(b.path("provider").asText("")) + "'");
        }
        URI origin = null;
        JsonNode base = b.get("base_url");
        if (base != null && !base.isNull()) {
            if (!base.isTextual()) {
                throw new InvalidKeyReply("base_url is not a string");
            }
            try {
                origin = RouterConfigReader.origin("base_url", base.asText());
            } catch (ConfigException e) {
                throw new InvalidKeyReply(e.getMessage());
            }
        }
        return new ProviderKey(key, provider, origin);
    }

    @Override
    public void close() {
        fetcher.shutdownNow();
    }
}
