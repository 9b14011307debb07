package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.AdminRequest;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventQuery;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code GET /iron/api/events?since=&type=&limit=}: the stored events as Python's
 * {@code router.events(since, types, limit)} returns them (the newest {@code limit}, oldest first).
 */
final class EventsApi {
    static final int DEFAULT_LIMIT = 1_000;
    private static final String EVENT_ID_PREFIX = "evt_";

    private final LlmRouter router;

    EventsApi(LlmRouter router) {
        this.router = router;
    }

    /** Reads the database after its writer caught up: run it on an admin worker, never an I/O thread. */
    AdminReply list(AdminRequest r) throws Exception {
        EventQuery q = query(r);
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode events = o.putArray("events");
        for (EngineEvent e : router.events(q)) {
            events.add(e.toJson());
        }
        return AdminReply.ok(o);
    }

    /**
     * {@code since}: ms since the epoch (inclusive) or an event_id (exclusive); {@code type}: names
     * separated by commas; {@code limit}: 1 to {@value EventQuery#MAX_LIMIT}, default {@value #DEFAULT_LIMIT}.
     *
     * @throws IllegalArgumentException naming the parameter that is wrong (a 400)
     */
    static EventQuery query(AdminRequest r) {
        Long sinceMs = null;
        String afterId = null;
        String since = r.param("since");
        if (since != null) {
            if (since.startsWith(EVENT_ID_PREFIX) && since.length() > EVENT_ID_PREFIX.length()) {
                afterId = since;
            } else {
                sinceMs = parseLong("since", since, 0, Long.MAX_VALUE, "ms since the epoch or an event_id (evt_...)");
            }
        }
        Set<String> types = null;
        String type = r.param("type");
        if (type != null) {
            types = new LinkedHashSet<>();
            for (String t : type.split(",", -1)) {
                String name = t.strip();
                if (!EngineEvent.TYPES.contains(name)) {
                    throw new IllegalArgumentException("type: unknown event type '" + RequestStages.printable(name)
                            + "'; known types: " + String.join(", ", new TreeSet<>(EngineEvent.TYPES)));
                }
                types.add(name);
            }
        }
        String limit = r.param("limit");
        int n = limit == null ? DEFAULT_LIMIT
                : (int) parseLong("limit", limit, 1, EventQuery.MAX_LIMIT, "an integer from 1 to " + EventQuery.MAX_LIMIT);
        return new EventQuery(sinceMs, afterId, types, n);
    }

    private static long parseLong(String name, String value, long min, long max, String expected) {
        long v;
        try {
            v = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be " + expected + ", got '"
                    + RequestStages.printable(value) + "'");
        }
        if (v < min || v > max) {
            throw new IllegalArgumentException(name + " must be " + expected + ", got " + v);
        }
        return v;
    }
}
