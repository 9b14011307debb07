package io.ironruntime.state;

/**
 * One detected value as the audit table keeps it: never the value, only a salted fingerprint.
 *
 * @param direction   {@code request} (what the agent sent) or {@code response} (what the model answered)
 * @param action      {@code redacted}, {@code masked}, {@code hashed}, {@code blocked} or {@code detected}
 * @param fingerprint HMAC-SHA256 of the value under the router's salt, 16 hex digits
 * @param field       where in the body it was, e.g. {@code messages[1].content}
 * @param start       offset of the value in that field's text (characters; for a stream, from its start)
 */
public record PiiAuditRow(long timestampMs, String requestId, String agentId, String direction, String entityType,
        String action, String fingerprint, String field, long start, long end) implements StoreRow {
}
