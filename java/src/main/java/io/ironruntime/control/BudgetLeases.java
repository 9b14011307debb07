package io.ironruntime.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventSink;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.state.ControlState;
import io.ironruntime.state.LeaseRow;
import java.io.IOException;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * Budget leases (Iron Cage "Protocol 005" as the server implements it): the handshake that grants the
 * first lease, refreshes before it runs out, and the return of what is left at stop. The server calls
 * run on the sync thread ({@link ControlSync}); requests read the state from their I/O threads and
 * wait on a future when an answer is on its way.
 */
final class BudgetLeases {
    /** A refused refresh or handshake is asked again after this, so budget the owner adds is noticed. */
    static final long REFUSED_RETRY_NANOS = 30_000_000_000L;
    static final long RETRY_BASE_NANOS = 1_000_000_000L;
    static final long RETRY_CAP_NANOS = 60_000_000_000L;

    enum State {
        /** No lease yet; the handshake is due or running. */
        ACQUIRING,
        ACTIVE,
        /** The handshake failed (server unreachable or failing); tried again at {@code retryAt}. */
        UNAVAILABLE,
        /** The server has no budget for this agent (handshake refused); asked again at {@code retryAt}. */
        REFUSED
    }

    private final ControlClient client;
    private final ControlState store;
    private final LeaseBudget budget;
    private final EventSink events;
    private final String scope;
    private final long leaseMicros;
    private final int refreshBelowPpm;
    private final Runnable wake;
    final LeaseBook book = new LeaseBook();
    /** Leases the server no longer takes charges for; their unsent reports go to the current lease. */
    final Set<String> dead = ConcurrentHashMap.newKeySet();
    final LongAdder handshakes = new LongAdder();
    final LongAdder refreshes = new LongAdder();
    final LongAdder refreshesDenied = new LongAdder();
    final LongAdder returned = new LongAdder();

    // Guarded by this.
    private State state = State.ACQUIRING;
    private ControlFailure failure;
    private int failuresInRow;
    private long retryAt;
    /** Completes when the running (or next) handshake attempt ends. */
    private CompletableFuture<Void> acquired = new CompletableFuture<>();
    private boolean refreshWanted;
    /** Completes when the running (or next) refresh attempt ends. */
    private CompletableFuture<Void> refreshed = new CompletableFuture<>();
    private String refreshDenial;
    private long refreshRetryAt;
    private boolean refreshRetrySet;
    private long serverRemainingMicros = -1;

    BudgetLeases(ControlClient client, ControlState store, LeaseBudget budget, EventSink events, String scope,
            long leaseMicros, int refreshBelowPpm, Runnable wake) {
        this.client = client;
        this.store = store;
        this.budget = budget;
        this.events = events;
        this.scope = scope;
        this.leaseMicros = leaseMicros;
        this.refreshBelowPpm = refreshBelowPpm;
        this.wake = wake; // no lease limit before the first lease: the gate holds requests back until then
    }

    // ---- request side (I/O threads) ---------------------------------------------------------------

    /** May a metered request go on to the budget check? Waits for a handshake under way. */
    synchronized Admission gate() {
        switch (state) {
            case ACTIVE:
                return Admission.PASS;
            case ACQUIRING:
                return Admission.waitFor(acquired);
            default:
                if (System.nanoTime() - retryAt >= 0) {
                    state = State.ACQUIRING;
                    wake.run();
                    return Admission.waitFor(acquired);
                }
                return Admission.refuse(noLease());
        }
    }

    private ErrorReply noLease() {
        long waitS = Math.max(1, (retryAt - System.nanoTime() + 999_999_999L) / 1_000_000_000L);
        String why = failure == null ? "no lease yet" : failure.describe(client.server());
        if (state == State.REFUSED) {
            return ErrorReply.paymentRequired("iron_cage_budget_exceeded", "budget_exceeded",
                    "Budget exhausted: the Iron Cage server granted this agent no budget lease (" + why + ")."
                            + " Raise the agent's budget on the server; the router asks again in " + waitS + " s.")
                    .withHeaders(java.util.Map.of("Retry-After", Long.toString(waitS)));
        }
        return ErrorReply.controlServer(503, "control_server_unavailable", "No budget lease: " + why
                + ". The router tries again in " + waitS + " s.")
                .withHeaders(java.util.Map.of("Retry-After", Long.toString(waitS)));
    }

    /**
     * The ledger refused a request for want of budget: returns a refresh to wait for when one may grant
     * more (the lease, not the user's cap, is what binds, and the server has not just said no), else null.
     */
    synchronized CompletableFuture<Void> more() {
        if (state != State.ACTIVE || budget.userLimitPicos() <= book.limitPicos() || refreshDeniedRecently()) {
            return null;
        }
        wantRefresh();
        return refreshed;
    }

    /** After a settlement or a reservation: refresh ahead of need once the unreserved lease is low. */
    void check() {
        BudgetLedger.Snapshot s = budget.snapshot();
        if (book.low(s, refreshBelowPpm) && budget.userLimitPicos() > book.limitPicos()) {
            synchronized (this) {
                if (state == State.ACTIVE && !refreshDeniedRecently()) {
                    wantRefresh();
                }
            }
        }
    }

    private void wantRefresh() {
        if (!refreshWanted) {
            refreshWanted = true;
            wake.run();
        }
    }

    private boolean refreshDeniedRecently() {
        return refreshRetrySet && System.nanoTime() - refreshRetryAt < 0;
    }

    /** Added to a budget refusal's message: where the budget comes from and what the server last said. */
    synchronized String refusalNote() {
        if (state != State.ACTIVE) {
            return "";
        }
        String note = " The budget is a lease of " + Money.microsToUsd(book.grantedMicros()) + " from the Iron Cage server";
        return refreshDenial == null ? note + "." : note + ", which refused more (" + refreshDenial + ").";
    }

    // ---- sync thread -------------------------------------------------------------------------------

    /** Runs what is due: the handshake when there is no lease, a refresh when one is wanted. */
    void tick(ProviderKeys keys) {
        State s;
        boolean refresh;
        synchronized (this) {
            s = state;
            refresh = refreshWanted && s == State.ACTIVE && !refreshDeniedRecently();
        }
        if (s == State.ACQUIRING) {
            handshake(keys);
        } else if (refresh) {
            refresh();
        } else if (s == State.ACTIVE) {
            synchronized (this) {
                if (refreshWanted) { // denied recently: the waiting requests get their 402 now
                    refreshWanted = false;
                    finishRefresh();
                }
            }
        }
    }

    /** See {@link LeaseBook#absorb}. */
    void absorb(long micros) {
        if (micros > 0) {
            book.absorb(micros);
            budget.leaseLimit(book.limitPicos());
        }
    }

    /** A refresh is wanted and may run now. */
    synchronized boolean refreshDue() {
        return refreshWanted && state == State.ACTIVE && !refreshDeniedRecently();
    }

    /** Something to do now: a handshake (first, or again once a failure's backoff ran out), or a refresh. */
    synchronized boolean due() {
        if ((state == State.UNAVAILABLE || state == State.REFUSED) && System.nanoTime() - retryAt >= 0) {
            state = State.ACQUIRING;
        }
        return state == State.ACQUIRING || (refreshWanted && !refreshDeniedRecently());
    }

    /** Nanoseconds until the next handshake retry (0 when due; Long.MAX_VALUE when nothing is waiting). */
    synchronized long nextRetryIn() {
        if (state == State.UNAVAILABLE || state == State.REFUSED) {
            return Math.max(0, retryAt - System.nanoTime());
        }
        return Long.MAX_VALUE;
    }

    synchronized State state() {
        return state;
    }

    synchronized ControlFailure failure() {
        return failure;
    }

    /** Micro-dollars to ask for: the lease size, or less when the user's cap leaves less (at least one). */
    private long requestSize() {
        long cap = budget.userLimitPicos();
        if (cap == BudgetLedger.UNLIMITED) {
            return leaseMicros;
        }
        BudgetLedger.Snapshot s = budget.snapshot();
        long room = Math.max(0, cap - Math.max(s.spent() + s.reserved(), book.leaseId() == null ? 0 : book.limitPicos()));
        return Math.max(1, Math.min(leaseMicros, room / LeaseBook.PICOS_PER_MICRO));
    }

    private void handshake(ProviderKeys keys) {
        ProviderKeys.Lookup key = keys.await(15_000);
        if (key.key() == null) {
            unavailable(key.failure() != null ? key.failure()
                    : new ControlFailure("handshake", 0, "NO_PROVIDER_KEY", "no provider key yet"), false);
            return;
        }
        handshakes.increment();
        ObjectNode body = client.bodyWithToken();
        body.put("provider", key.key().provider().wireName());
        body.put("requested_budget", requestSize());
        try {
            ControlClient.Reply reply = client.post(ControlClient.HANDSHAKE, body, true);
            if (reply.ok()) {
                String id = leaseId(reply.body().path("lease_id"));
                long granted = micros(reply.body().path("budget_granted"));
                if (id == null || granted <= 0) {
                    unavailable(ControlFailure.invalid("handshake", reply.status(), "no lease_id or budget_granted"), false);
                    return;
                }
                serverRemaining(reply.body());
                begin(id, granted, key.key(), "handshake");
                synchronized (this) {
                    state = State.ACTIVE;
                    failure = null;
                    failuresInRow = 0;
                    finishAcquire();
                }
                return;
            }
            ControlFailure f = ControlFailure.of("handshake", reply);
            unavailable(f, reply.status() == 403);
        } catch (IOException e) {
            unavailable(ControlFailure.unreachable("handshake", e), false);
        }
    }

    private void begin(String id, long granted, ProviderKey key, String via) {
        long spent = budget.snapshot().spent();
        book.begin(id, granted, spent);
        budget.leaseLimit(book.limitPicos());
        try {
            store.leaseGranted(new LeaseRow(id, scope, key == null ? "unknown" : key.provider().wireName(), granted,
                    LeaseRow.ACTIVE, System.currentTimeMillis(), null, null));
        } catch (SQLException e) {
            // The lease still works; without its row a crash cannot return it, which the server's expiry covers.
            ControlEvents.error(events, new ControlFailure("lease_record", 0, "STATE", e.getMessage()), client.server());
        }
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("lease_id", id);
        p.put("granted", Money.microsToUsd(granted));
        p.put("granted_micros", granted);
        p.put("via", via);
        ControlEvents.publish(events, EngineEvent.LEASE_ACQUIRED, p);
    }

    private void unavailable(ControlFailure f, boolean refused) {
        ControlEvents.error(events, f, client.server());
        synchronized (this) {
            failure = f;
            failuresInRow++;
            state = refused ? State.REFUSED : State.UNAVAILABLE;
            retryAt = System.nanoTime() + (refused ? Retry.nanos(1, REFUSED_RETRY_NANOS, REFUSED_RETRY_NANOS, ThreadLocalRandom.current())
                    : Retry.nanos(failuresInRow, RETRY_BASE_NANOS, RETRY_CAP_NANOS, ThreadLocalRandom.current()));
            finishAcquire();
        }
    }

    /** Guarded by this. */
    private void finishAcquire() {
        CompletableFuture<Void> done = acquired;
        acquired = new CompletableFuture<>();
        done.complete(null);
    }

    /** Guarded by this. */
    private void finishRefresh() {
        CompletableFuture<Void> done = refreshed;
        refreshed = new CompletableFuture<>();
        done.complete(null);
    }

    private void refresh() {
        String current = book.leaseId();
        refreshes.increment();
        ObjectNode body = client.bodyWithToken();
        body.put("current_lease_id", current);
        body.put("requested_budget", requestSize());
        try {
            ControlClient.Reply reply = client.post(ControlClient.REFRESH, body, true);
            JsonNode b = reply.body();
            serverRemaining(b);
            if (reply.ok() && "approved".equals(b.path("status").asText())) {
                String id = leaseId(b.path("lease_id"));
                long granted = micros(b.path("budget_granted"));
                if (id == null || granted <= 0) {
                    refreshFailed(ControlFailure.invalid("refresh", reply.status(), "approved without lease_id or budget_granted"));
                    return;
                }
                dead.add(current);
                endLease(current, LeaseRow.SUPERSEDED, null);
                begin(id, granted, null, "refresh");
                synchronized (this) {
                    refreshWanted = false;
                    refreshDenial = null;
                    refreshRetrySet = false;
                    finishRefresh();
                }
            } else if (reply.ok()) {
                refreshesDenied.increment();
                String reason = ControlFailure.printable(b.path("reason").asText(b.path("status").asText("denied")));
                ObjectNode p = Json.MAPPER.createObjectNode();
                p.put("lease_id", current);
                p.put("reason", reason);
                if (b.path("budget_remaining").canConvertToLong()) {
                    p.put("server_remaining", Money.microsToUsd(b.get("budget_remaining").asLong()));
                }
                ControlEvents.publish(events, EngineEvent.LEASE_REFRESH_DENIED, p);
                synchronized (this) {
                    refreshWanted = false;
                    refreshDenial = reason;
                    refreshRetryAt = System.nanoTime() + REFUSED_RETRY_NANOS;
                    refreshRetrySet = true;
                    finishRefresh();
                }
            } else if (reply.status() == 403 || reply.status() == 404) {
                lost(current, ControlFailure.of("refresh", reply));
            } else {
                refreshFailed(ControlFailure.of("refresh", reply));
            }
        } catch (IOException e) {
            refreshFailed(ControlFailure.unreachable("refresh", e));
        }
    }

    private void refreshFailed(ControlFailure f) {
        ControlEvents.error(events, f, client.server());
        synchronized (this) {
            refreshWanted = false; // asked again by the next request that finds the lease low
            refreshRetryAt = System.nanoTime() + RETRY_BASE_NANOS;
            refreshRetrySet = true;
            finishRefresh();
        }
    }

    /** The server no longer takes charges against {@code leaseId} (expired, revoked, unknown). */
    void lost(String leaseId, ControlFailure why) {
        dead.add(leaseId);
        endLease(leaseId, LeaseRow.LOST, null);
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("lease_id", leaseId);
        p.put("status", why.status());
        p.put("message", why.message());
        ControlEvents.publish(events, EngineEvent.LEASE_LOST, p);
        if (leaseId.equals(book.leaseId())) {
            book.end();
            synchronized (this) {
                state = State.ACQUIRING; // a new handshake, at once
                refreshWanted = false;
                finishRefresh();
            }
            wake.run();
        }
    }

    /**
     * Gives back what is left of a lease all of whose reports are acknowledged: {@code spentMicros} is what
     * was charged to it. True when the lease is settled either way (returned, or the server no longer has
     * it active); false to try again later.
     */
    boolean giveBack(String leaseId, long spentMicros) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("lease_id", leaseId);
        body.put("spent_microdollars", spentMicros);
        try {
            ControlClient.Reply reply = client.post(ControlClient.RETURN, body, true);
            if (reply.ok()) {
                long back = reply.body().path("returned").asLong(0);
                endLease(leaseId, LeaseRow.RETURNED, back);
                returned.increment();
                if (leaseId.equals(book.leaseId())) {
                    book.end();
                }
                ObjectNode p = Json.MAPPER.createObjectNode();
                p.put("lease_id", leaseId);
                p.put("spent", Money.microsToUsd(spentMicros));
                p.put("returned", Money.microsToUsd(back));
                p.put("returned_micros", back);
                ControlEvents.publish(events, EngineEvent.LEASE_RETURNED, p);
                return true;
            }
            if (reply.status() == 400 || reply.status() == 404) {
                endLease(leaseId, LeaseRow.LOST, null); // closed or unknown: nothing left to give back
                if (leaseId.equals(book.leaseId())) {
                    book.end();
                }
                return true;
            }
            ControlEvents.error(events, ControlFailure.of("return", reply), client.server());
        } catch (IOException e) {
            ControlEvents.error(events, ControlFailure.unreachable("return", e), client.server());
        }
        return false;
    }

    /** At stop: a later start handshakes again. */
    synchronized void reset() {
        book.end();
        state = State.ACQUIRING;
        failure = null;
        failuresInRow = 0;
        refreshWanted = false;
        finishRefresh();
    }

    synchronized long serverRemainingMicros() {
        return serverRemainingMicros;
    }

    private void serverRemaining(JsonNode b) {
        if (b.path("budget_remaining").canConvertToLong()) {
            synchronized (this) {
                serverRemainingMicros = b.get("budget_remaining").asLong();
            }
        }
    }

    private void endLease(String leaseId, String state, Long returnedMicros) {
        try {
            store.leaseEnded(leaseId, state, System.currentTimeMillis(), returnedMicros);
        } catch (SQLException e) {
            ControlEvents.error(events, new ControlFailure("lease_record", 0, "STATE", e.getMessage()), client.server());
        }
    }

    private static String leaseId(JsonNode n) {
        return n.isTextual() && !n.asText().isBlank() && n.asText().length() <= 200 ? n.asText() : null;
    }

    private static long micros(JsonNode n) {
        return n.canConvertToLong() && n.isIntegralNumber() ? n.asLong() : -1;
    }
}
