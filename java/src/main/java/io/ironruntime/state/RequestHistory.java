package io.ironruntime.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The ledger read as a history of requests (schema 5 adds what a request list shows beside the money):
 *
 * <pre>
 * ledger(..., traceparent      -- the W3C trace context sent upstream; null before schema 5
 *             pii_detections   -- detections in the request and its response; null before schema 5
 *             stream)          -- 1 when the request asked for a stream; null before schema 5
 * </pre>
 *
 * Rows written before the columns existed count their detections from {@code pii_audit}.
 */
final class RequestHistory {
    private static final String SELECT = "SELECT ts_ms, request_id, budget_id, agent_id, provider, model, input_tokens,"
            + " cache_read_tokens, cache_write_tokens, output_tokens, cost_picos, cost_known, usage_estimated, status,"
            + " outcome, latency_ms, attempts, traceparent,"
            + " COALESCE(pii_detections, (SELECT COUNT(*) FROM pii_audit a WHERE a.request_id = ledger.request_id)),"
            + " stream FROM ledger";

    private RequestHistory() {
    }

    /** Adds the schema 5 columns that are missing (a file may have some from an interrupted upgrade). */
    static void addColumns(Statement s) throws SQLException {
        Set<String> have = new HashSet<>();
        try (ResultSet r = s.executeQuery("PRAGMA table_info(ledger)")) {
            while (r.next()) {
                have.add(r.getString("name"));
            }
        }
        if (!have.contains("traceparent")) {
            s.executeUpdate("ALTER TABLE ledger ADD COLUMN traceparent TEXT");
        }
        if (!have.contains("pii_detections")) {
            s.executeUpdate("ALTER TABLE ledger ADD COLUMN pii_detections INTEGER");
        }
        if (!have.contains("stream")) {
            s.executeUpdate("ALTER TABLE ledger ADD COLUMN stream INTEGER");
        }
    }

    /** The newest {@code limit} rows, newest first; only the agent's when {@code agentId} is given. */
    static List<LedgerRow> newest(Connection c, int limit, String agentId) throws SQLException {
        String sql = SELECT + (agentId == null ? "" : " WHERE agent_id = ?") + " ORDER BY id DESC LIMIT ?";
        List<LedgerRow> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(sql)) {
            int i = 1;
            if (agentId != null) {
                p.setString(i++, agentId);
            }
            p.setInt(i, limit);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    long stream = r.getLong(20);
                    Boolean streamed = r.wasNull() ? null : stream != 0;
                    out.add(new LedgerRow(r.getLong(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                            r.getString(6), r.getLong(7), r.getLong(8), r.getLong(9), r.getLong(10), r.getLong(11),
                            r.getInt(12) != 0, r.getInt(13) != 0, r.getInt(14), r.getString(15), r.getLong(16),
                            r.getInt(17), r.getString(18), r.getInt(19), streamed));
                }
            }
        }
        return out;
    }
}
