package io.ironruntime.control;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.config.ControlConfig;
import io.ironruntime.cost.Money;
import io.ironruntime.events.EventSink;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import io.ironruntime.state.ControlOwner;
import io.ironruntime.state.ControlScope;
import io.ironruntime.state.ControlState;
import io.ironruntime.state.ControlStore;
import io.ironruntime.state.LedgerRow;
import io.ironruntime.state.LedgerStore;
import io.ironruntime.state.MemoryControlState;
import io.ironruntime.state.OutboxRow;
import java.net.URI;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A router's life in control-server mode: its provider key, its budget leases, and what it owes the Iron
 * Cage server (reports of charges, analytics events). The request path asks it three cheap questions
 * (the key, whether there is a lease, whether a refresh could help a refused request); everything that
 * talks to the server runs on the control threads.
 */
public final class ControlSession implements AutoCloseable {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(10);
    /** A non-strict start waits this long for its key and lease, then goes on and keeps trying. */
    static final long START_WAIT_MILLIS = 3_000;
    static final long STRICT_START_WAIT_MILLIS = 30_000;
    static final long STOP_WAIT_MILLIS = 15_000;

    private final ControlConfig config;
    private final ControlClient client;
    private final ControlState state;
    private final ControlScope scope;
    private final ControlOwner owner;
    private final ProviderKeys keys;
    private final BudgetLeases leases;
    private final ControlSync sync;
    private final int retentionDays;

    private ControlSession(ControlConfig config, ControlState state, ControlScope scope, ControlOwner owner,
            LeaseBudget budget, EventSink events, int retentionDays) {
        this.config = config;
        this.state = state;
        this.scope = scope;
        this.owner = owner;
        this.retentionDays = retentionDays;
        this.client = new ControlClient(config.serverUrl(), config.icToken(), CONNECT_TIMEOUT, RESPONSE_TIMEOUT);
        this.keys = new ProviderKeys(client, config.keyTtl().toNanos(), events);
        ControlSync[] s = new ControlSync[1];
        this.leases = new BudgetLeases(client, state, budget, events, scope.key(), config.leaseMicros(),
                config.refreshBelowPpm(), () -> s[0].wake());
        this.sync = new ControlSync(client, state, leases, keys, events, config.analyticsInterval().toNanos());
        s[0] = sync;
    }

    /** With {@code store} null (persistence off) leases and the outbox live in memory only. */
    public static ControlSession open(ControlConfig config, LedgerStore store, LeaseBudget budget, EventSink events,
            int retentionDays) {
        ControlScope scope = ControlScope.of(config.serverUrl().toString(), config.icToken());
        ControlOwner owner = ControlOwner.fresh();
        ControlState state = store == null ? new MemoryControlState() : new ControlStore(store, scope, owner);
        return new ControlSession(config, state, scope, owner, budget, events, retentionDays);
    }

    /** Thrown by a strict start that could not get a key and a lease. */
    public static final class StartFailure extends RuntimeException {
        StartFailure(String message) {
            super(message);
        }
    }

    /**
     * Takes over what earlier sessions left unsent or unreturned, starts the sync thread, and waits for the
     * provider key and the first lease: a strict start fails when they do not come, any other goes on.
     */
    public void start() {
        try {
            state.prune(System.currentTimeMillis() - TimeUnit.DAYS.toMillis(retentionDays));
            state.adoptLeftovers();
            sync.reports.pending.set(state.countPending(OutboxRow.REPORT));
            sync.analytics.pending.set(state.countPending(OutboxRow.ANALYTICS));
        } catch (SQLException e) {
            throw new StartFailure("cannot read the control-server rows of the database (" + e.getMessage() + ")");
        }
        Admission first = leases.gate();
        sync.start();
        if (first.pending() != null) {
            try {
                first.pending().get(config.strict() ? STRICT_START_WAIT_MILLIS : START_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                // still trying: a strict start fails below, any other serves and waits
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (config.strict() && leases.state() != BudgetLeases.State.ACTIVE) {
            ControlFailure f = leases.failure();
            sync.stop(STOP_WAIT_MILLIS);
            throw new StartFailure("cannot start in control-server mode (strict=True): "
                    + (f == null ? "no answer from the Iron Cage server at " + config.serverUrl() + " in time"
                    : f.describe(config.serverUrl())));
        }
    }

    /** Reports and posts what is owed, returns the leases, and stops the sync thread; a later start resumes. */
    public void stop() {
        sync.stop(STOP_WAIT_MILLIS);
    }

    @Override
    public void close() {
        stop();
        keys.close();
        client.close();
    }

    // ---- request path ------------------------------------------------------------------------------

    /** The key for a request to {@code provider}: the cached one, a fetch to wait for, or an error reply. */
    public Admission credential(Provider provider) {
        ProviderKeys.Lookup l = keys.lookup();
        if (l.key() != null) {
            if (l.key().provider() != provider) {
                return Admission.refuse(ErrorReply.badRequest("provider_not_configured", "This request goes to "
                        + provider.wireName() + " but the Iron Cage server assigned this agent a " + l.key().provider().wireName()
                        + " key: use a " + l.key().provider().wireName() + " model"));
            }
            return new Admission(l.key(), null, null);
        }
        if (l.pending() != null) {
            return Admission.waitFor(l.pending());
        }
        return Admission.refuse(noKey(l.failure(), l.retryInNanos()));
    }

    private ErrorReply noKey(ControlFailure f, long retryInNanos) {
        long waitS = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(retryInNanos + 999_999_999L));
        String why = f == null ? "no answer yet from the Iron Cage server at " + config.serverUrl() : f.describe(config.serverUrl());
        boolean refused = f != null && !f.retryable();
        ErrorReply r = ErrorReply.controlServer(refused ? 502 : 503,
                refused ? "control_server_refused" : "control_server_unavailable",
                "No provider key: " + why + ". The router asks again in " + waitS + " s.");
        return r.withHeaders(f == null ? Map.of("Retry-After", Long.toString(waitS))
                : Map.of("Retry-After", Long.toString(waitS), "x-iron-control-code", f.code()));
    }

    /** The upstream origin for a request with this key: the server's {@code base_url}, unless the user set one. */
    public URI origin(ProviderKey key, URI configured) {
        return key.origin() == null || config.explicitOrigins().contains(key.provider()) ? configured : key.origin();
    }

    /** May a metered request go on to the budget check? */
    public Admission lease() {
        return leases.gate();
    }

    /** The ledger refused for want of budget: a refresh to wait for when one may grant more, else null. */
    public CompletableFuture<Void> moreBudget() {
        return leases.more();
    }

    /** Added to the message of a budget refusal. */
    public String refusalNote() {
        return leases.refusalNote();
    }

    /** After a reservation: refresh ahead of need when the lease is low. */
    public void reserved() {
        leases.check();
    }

    /** The provider refused the key with 401: it may have been rotated on the server. */
    public void keyRejected(ProviderKey used) {
        keys.suspect(used);
    }

    /**
     * Records a settled request with its report (what it cost, in micro-dollars, against the current lease)
     * and its analytics event; the sync thread sends them once committed.
     */
    public void settled(LedgerRow row) {
        long micros = leases.book.charge(row.costPicos());
        long now = System.currentTimeMillis();
        String model = row.model() == null ? "unknown" : row.model();
        List<OutboxRow> owed = new ArrayList<>(2);
        long tokens = row.totalInputTokens() + row.outputTokens();
        if (micros > 0 || tokens > 0) {
            ObjectNode r = Json.MAPPER.createObjectNode();
            r.put("request_id", row.requestId());
            r.put("tokens", tokens);
            r.put("cost_microdollars", micros);
            r.put("model", model);
            r.put("provider", row.provider());
            owed.add(new OutboxRow(OutboxRow.REPORT, row.requestId(), scope.key(), owner, leases.book.leaseId(), micros,
                    r.toString(), now));
        }
        String eventId = UUID.randomUUID().toString();
        owed.add(new OutboxRow(OutboxRow.ANALYTICS, eventId, scope.key(), owner, null, 0,
                AnalyticsEvent.of(eventId, row, micros).toString(), now));
        state.record(row, owed);
        sync.reports.pending.addAndGet(owed.size() - 1);
        sync.analytics.pending.incrementAndGet();
        sync.wake();
        leases.check();
    }

    // ---- what users see --------------------------------------------------------------------------------

    /** The provider of the fetched key, or null before the first fetch. */
    public Provider provider() {
        ProviderKey k = keys.current();
        return k == null ? null : k.provider();
    }

    /** The {@code control} object of the router's metrics. */
    public void addTo(ObjectNode metrics) {
        ObjectNode o = metrics.putObject("control");
        o.put("server_url", config.serverUrl().toString());
        ProviderKey k = keys.current();
        o.put("provider", k == null ? null : k.provider().wireName());
        o.put("upstream", k == null || k.origin() == null ? null : k.origin().toString());
        Long left = keys.expiresInNanos();
        o.put("key_state", k == null ? "none" : left > 0 ? "valid" : "expired");
        if (left == null) {
            o.putNull("key_expires_in");
        } else {
            o.put("key_expires_in", Math.max(0, left) / 1e9);
        }
        o.put("key_fetches", keys.fetches.sum());
        o.put("key_fetch_failures", keys.failures.sum());
        o.put("lease_state", leases.state().name().toLowerCase(java.util.Locale.ROOT));
        String lease = leases.book.leaseId();
        o.put("lease_id", lease);
        o.put("lease_granted", lease == null ? 0.0 : Money.microsToUsd(leases.book.grantedMicros()));
        long remaining = leases.serverRemainingMicros();
        if (remaining < 0) {
            o.putNull("server_budget_remaining");
        } else {
            o.put("server_budget_remaining", Money.microsToUsd(remaining));
        }
        o.put("handshakes", leases.handshakes.sum());
        o.put("refreshes", leases.refreshes.sum());
        o.put("refreshes_denied", leases.refreshesDenied.sum());
        o.put("leases_returned", leases.returned.sum());
        o.put("reports_pending", Math.max(0, sync.reports.pending.get()));
        o.put("reports_sent", sync.reports.sent.sum());
        o.put("reports_rejected", sync.reports.rejected.sum());
        o.put("analytics_pending", Math.max(0, sync.analytics.pending.get()));
        o.put("analytics_sent", sync.analytics.sent.sum());
        o.put("analytics_rejected", sync.analytics.rejected.sum());
        ControlFailure f = leases.failure() != null ? leases.failure() : keys.lastFailure();
        if (f == null) {
            o.putNull("last_error");
        } else {
            ObjectNode e = o.putObject("last_error");
            e.put("operation", f.operation());
            e.put("status", f.status());
            e.put("code", f.code());
            e.put("message", f.message());
        }
    }
}
