package io.ironruntime.events;

import java.util.Set;

/**
 * Which stored events a reader wants: the newest {@code limit} of them, returned oldest first.
 *
 * @param sinceMs      only events at or after this time (ms since the epoch), or null
 * @param afterEventId only events recorded after this one, or null (an unknown id matches everything)
 * @param types        only these types, or null for all
 */
public record EventQuery(Long sinceMs, String afterEventId, Set<String> types, int limit) {
    public static final int MAX_LIMIT = 100_000;

    public EventQuery {
        types = types == null ? null : Set.copyOf(types);
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT);
        }
    }

    public boolean matches(EngineEvent e) {
        return (sinceMs == null || e.timestampMs() >= sinceMs) && (types == null || types.contains(e.type()));
    }
}
