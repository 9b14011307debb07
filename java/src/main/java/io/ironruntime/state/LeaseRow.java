package io.ironruntime.state;

/**
 * A budget lease as the router remembers it.
 *
 * @param state {@code active} (held; unused budget to return at stop), {@code superseded} (a refresh
 *              replaced it: the server expired it), {@code returned}, or {@code lost} (the server no longer
 *              knows it as active: revoked, expired, unknown)
 */
public record LeaseRow(String leaseId, String scope, String provider, long grantedMicros, String state,
        long createdMs, Long endedMs, Long returnedMicros) {
    public static final String ACTIVE = "active";
    public static final String SUPERSEDED = "superseded";
    public static final String RETURNED = "returned";
    public static final String LOST = "lost";
}
