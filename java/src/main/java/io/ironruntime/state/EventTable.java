package io.ironruntime.state;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventQuery;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The {@code events} table (schema 4): one row per engine event, in the order they were published
 * ({@code id}). {@code payload_json} is the event's typed payload, which never holds a secret or a raw
 * PII value.
 *
 * <pre>
 * events(id INTEGER PRIMARY KEY, event_id TEXT UNIQUE, ts_ms, type, agent_id, request_id, payload_json)
 * </pre>
 */
final class EventTable {
    private static final String INSERT = "INSERT OR IGNORE INTO events (event_id, ts_ms, type, agent_id, request_id,"
            + " payload_json) VALUES (?,?,?,?,?,?)";

    private EventTable() {
    }

    static void create(Statement s) throws SQLException {
        s.executeUpdate("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,"
                + " ts_ms INTEGER NOT NULL, type TEXT NOT NULL, agent_id TEXT, request_id TEXT,"
                + " payload_json TEXT NOT NULL)");
        s.executeUpdate("CREATE INDEX IF NOT EXISTS events_ts ON events (ts_ms)");
        s.executeUpdate("CREATE INDEX IF NOT EXISTS events_type ON events (type, ts_ms)");
    }

    static void insert(Connection c, List<EngineEvent> events) throws SQLException {
        if (events.isEmpty()) {
            return;
        }
        try (PreparedStatement p = c.prepareStatement(INSERT)) {
            for (EngineEvent e : events) {
                p.setString(1, e.eventId());
                p.setLong(2, e.timestampMs());
                p.setString(3, e.type());
                p.setString(4, e.agentId());
                p.setString(5, e.requestId());
                p.setString(6, e.payload().toString());
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    /** Deletes the events older than {@code cutoffMs}; returns how many. */
    static int prune(Connection c, long cutoffMs) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("DELETE FROM events WHERE ts_ms < ?")) {
            p.setLong(1, cutoffMs);
            return p.executeUpdate();
        }
    }

    static List<EngineEvent> query(Connection c, EventQuery q) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT event_id, ts_ms, type, agent_id, request_id, payload_json"
                + " FROM events WHERE 1=1");
        List<Object> args = new ArrayList<>();
        if (q.sinceMs() != null) {
            sql.append(" AND ts_ms >= ?");
            args.add(q.sinceMs());
        }
        if (q.afterEventId() != null) {
            sql.append(" AND id > COALESCE((SELECT id FROM events WHERE event_id = ?), 0)");
            args.add(q.afterEventId());
        }
        if (q.types() != null) {
            sql.append(" AND type IN (").append(String.join(",", Collections.nCopies(q.types().size(), "?"))).append(')');
            args.addAll(q.types().stream().sorted().toList());
        }
        sql.append(" ORDER BY id DESC LIMIT ?");
        args.add(q.limit());
        List<EngineEvent> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                p.setObject(i + 1, args.get(i));
            }
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(new EngineEvent(r.getString(1), r.getString(3), r.getLong(2), r.getString(4),
                            r.getString(5), payload(r.getString(6))));
                }
            }
        }
        Collections.reverse(out);
        return out;
    }

    private static ObjectNode payload(String json) throws SQLException {
        try {
            return (ObjectNode) Json.MAPPER.readTree(json);
        } catch (JsonProcessingException | ClassCastException e) {
            throw new SQLException("an events row holds a payload that is not a JSON object", e);
        }
    }
}
