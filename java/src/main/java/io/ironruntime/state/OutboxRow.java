package io.ironruntime.state;

/**
 * Something the router owes the Iron Cage server, written with the ledger row it comes from so a
 * crash cannot lose it: a charge to report against a lease, or an analytics event.
 *
 * @param kind       {@link #REPORT} or {@link #ANALYTICS}
 * @param itemId     the idempotency key the server sees: the request id of a report, the event id of an event
 * @param scope      which server and token it belongs to ({@link ControlScope#key()})
 * @param owner      the router session that sends it; another session adopts it once that one is gone
 * @param leaseId    the lease a report is charged to (null: the lease current when it is sent)
 * @param costMicros a report's charge in whole micro-dollars (0 for events)
 * @param body       the JSON body, without the Iron Cage token (added when sending)
 */
public record OutboxRow(String kind, String itemId, String scope, ControlOwner owner, String leaseId, long costMicros,
        String body, long createdMs) implements StoreRow {
    public static final String REPORT = "report";
    public static final String ANALYTICS = "analytics";
}
