package io.ironruntime.state;

/** An unfinished outbox row as the sender reads it back. */
public record OutboxItem(long id, String kind, String itemId, String leaseId, long costMicros, String body,
        int attempts) {
}
