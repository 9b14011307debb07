package io.ironruntime.state;

import static io.ironruntime.state.SqlValues.getLong;
import static io.ironruntime.state.SqlValues.setLong;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL of control-server mode (schema version 6); {@link ControlStore} decides when it runs.
 *
 * <pre>
 * control_leases(lease_id TEXT PRIMARY KEY, scope, provider, granted_micros, state, owner, owner_pid,
 *        owner_started_ms, created_ms, ended_ms, returned_micros)
 *        -- state: active, superseded, returned, lost (see LeaseRow); owner NULL: nobody holds it
 * control_outbox(id INTEGER PRIMARY KEY, kind, item_id, scope, owner, owner_pid, owner_started_ms, lease_id,
 *        cost_micros, body, created_ms, done_ms, result, attempts, UNIQUE (kind, item_id))
 *        -- kind: report or analytics; done_ms NULL until the server acknowledged it (result 'acked')
 *        -- or refused it for good (result 'rejected ...'); body never holds the token
 * </pre>
 * A scope is the server URL and a SHA-256 digest of the Iron Cage token.
 */
final class ControlTables {
    static final String INSERT_OUTBOX = "INSERT OR IGNORE INTO control_outbox (kind, item_id, scope, owner, owner_pid,"
            + " owner_started_ms, lease_id, cost_micros, body, created_ms) VALUES (?,?,?,?,?,?,?,?,?,?)";

    private ControlTables() {
    }

    static void create(Statement s) throws SQLException {
        s.executeUpdate("CREATE TABLE IF NOT EXISTS control_leases (lease_id TEXT PRIMARY KEY, scope TEXT NOT NULL,"
                + " provider TEXT NOT NULL, granted_micros INTEGER NOT NULL, state TEXT NOT NULL, owner TEXT,"
                + " owner_pid INTEGER, owner_started_ms INTEGER, created_ms INTEGER NOT NULL, ended_ms INTEGER,"
                + " returned_micros INTEGER)");
        s.executeUpdate("CREATE TABLE IF NOT EXISTS control_outbox (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
                + " item_id TEXT NOT NULL, scope TEXT NOT NULL, owner TEXT, owner_pid INTEGER, owner_started_ms INTEGER,"
                + " lease_id TEXT, cost_micros INTEGER NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL,"
                + " done_ms INTEGER, result TEXT, attempts INTEGER NOT NULL DEFAULT 0, UNIQUE (kind, item_id))");
        s.executeUpdate("CREATE INDEX IF NOT EXISTS control_outbox_pending ON control_outbox (owner, kind, id)"
                + " WHERE done_ms IS NULL");
    }

    static void bind(PreparedStatement p, OutboxRow o) throws SQLException {
        p.setString(1, o.kind());
        p.setString(2, o.itemId());
        p.setString(3, o.scope());
        p.setString(4, o.owner().id());
        p.setLong(5, o.owner().pid());
        setLong(p, 6, o.owner().processStartedMs());
        p.setString(7, o.leaseId());
        p.setLong(8, o.costMicros());
        p.setString(9, o.body());
        p.setLong(10, o.createdMs());
    }

    /** The owner's oldest unfinished rows of one kind. */
    static List<OutboxItem> pending(Connection c, String owner, String kind, int limit) throws SQLException {
        List<OutboxItem> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT id, item_id, lease_id, cost_micros, body, attempts"
                + " FROM control_outbox WHERE owner = ? AND kind = ? AND done_ms IS NULL ORDER BY id LIMIT ?")) {
            p.setString(1, owner);
            p.setString(2, kind);
            p.setInt(3, limit);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(new OutboxItem(r.getLong(1), kind, r.getString(2), r.getString(3), r.getLong(4),
                            r.getString(5), r.getInt(6)));
                }
            }
        }
        return out;
    }

    static void finish(Connection c, List<Long> ids, String result, long nowMs) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE control_outbox SET done_ms = ?, result = ?,"
                + " attempts = attempts + 1 WHERE id = ? AND done_ms IS NULL")) {
            for (long id : ids) {
                p.setLong(1, nowMs);
                p.setString(2, result);
                p.setLong(3, id);
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    static void attempted(Connection c, long id, String leaseId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE control_outbox SET attempts = attempts + 1,"
                + " lease_id = COALESCE(?, lease_id) WHERE id = ?")) {
            p.setString(1, leaseId);
            p.setLong(2, id);
            p.executeUpdate();
        }
    }

    static int countPending(Connection c, String owner, String kind) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM control_outbox WHERE owner = ? AND kind = ?"
                + " AND done_ms IS NULL")) {
            p.setString(1, owner);
            p.setString(2, kind);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }

    /**
     * Makes {@code owner} the holder of the scope's unfinished rows and active leases whose holder is gone
     * (released at a stop, or its process ended); returns how many rows and leases it took.
     */
    static int adopt(Connection c, String scope, ControlOwner owner) throws SQLException {
        int taken = 0;
        for (String table : List.of("control_outbox", "control_leases")) {
            String open = table.equals("control_outbox") ? "done_ms IS NULL" : "state = 'active'";
            List<String> gone = new ArrayList<>();
            boolean released = false;
            try (PreparedStatement p = c.prepareStatement("SELECT DISTINCT owner, owner_pid, owner_started_ms FROM "
                    + table + " WHERE scope = ? AND " + open + " AND (owner IS NULL OR owner <> ?)")) {
                p.setString(1, scope);
                p.setString(2, owner.id());
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        String id = r.getString(1);
                        if (id == null) {
                            released = true;
                        } else if (!ControlOwner.alive(id, getLong(r, 2), getLong(r, 3))) {
                            gone.add(id);
                        }
                    }
                }
            }
            String set = "UPDATE " + table + " SET owner = ?, owner_pid = ?, owner_started_ms = ? WHERE scope = ? AND "
                    + open + " AND ";
            if (released) {
                taken += take(c, set + "owner IS NULL", owner, scope, null);
            }
            for (String id : gone) {
                taken += take(c, set + "owner = ?", owner, scope, id);
            }
        }
        return taken;
    }

    private static int take(Connection c, String sql, ControlOwner owner, String scope, String from) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, owner.id());
            p.setLong(2, owner.pid());
            setLong(p, 3, owner.processStartedMs());
            p.setString(4, scope);
            if (from != null) {
                p.setString(5, from);
            }
            return p.executeUpdate();
        }
    }

    /** Lets go of the owner's unfinished rows and active leases, so a later session adopts them. */
    static void release(Connection c, String owner) throws SQLException {
        for (String table : List.of("control_outbox", "control_leases")) {
            try (PreparedStatement p = c.prepareStatement("UPDATE " + table
                    + " SET owner = NULL, owner_pid = NULL, owner_started_ms = NULL WHERE owner = ?")) {
                p.setString(1, owner);
                p.executeUpdate();
            }
        }
    }

    /** Deletes finished rows older than {@code cutoffMs}: the ledger keeps the requests; these were only owed. */
    static int prune(Connection c, long cutoffMs) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("DELETE FROM control_outbox WHERE done_ms IS NOT NULL AND done_ms < ?")) {
            p.setLong(1, cutoffMs);
            return p.executeUpdate();
        }
    }

    static void insertLease(Connection c, LeaseRow l, ControlOwner owner) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO control_leases (lease_id, scope, provider,"
                + " granted_micros, state, owner, owner_pid, owner_started_ms, created_ms) VALUES (?,?,?,?,?,?,?,?,?)"
                + " ON CONFLICT (lease_id) DO NOTHING")) {
            p.setString(1, l.leaseId());
            p.setString(2, l.scope());
            p.setString(3, l.provider());
            p.setLong(4, l.grantedMicros());
            p.setString(5, l.state());
            p.setString(6, owner.id());
            p.setLong(7, owner.pid());
            setLong(p, 8, owner.processStartedMs());
            p.setLong(9, l.createdMs());
            p.executeUpdate();
        }
    }

    static void endLease(Connection c, String leaseId, String state, long nowMs, Long returnedMicros) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE control_leases SET state = ?, ended_ms = ?,"
                + " returned_micros = ? WHERE lease_id = ?")) {
            p.setString(1, state);
            p.setLong(2, nowMs);
            setLong(p, 3, returnedMicros);
            p.setString(4, leaseId);
            p.executeUpdate();
        }
    }

    /** The owner's active leases, oldest first. */
    static List<LeaseRow> activeLeases(Connection c, String owner) throws SQLException {
        List<LeaseRow> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT lease_id, scope, provider, granted_micros, state, created_ms"
                + " FROM control_leases WHERE owner = ? AND state = 'active' ORDER BY created_ms")) {
            p.setString(1, owner);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(new LeaseRow(r.getString(1), r.getString(2), r.getString(3), r.getLong(4), r.getString(5),
                            r.getLong(6), null, null));
                }
            }
        }
        return out;
    }

    /** What was charged to a lease: every report row for it, sent or not. */
    static long chargedMicros(Connection c, String leaseId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COALESCE(SUM(cost_micros), 0) FROM control_outbox"
                + " WHERE kind = 'report' AND lease_id = ? AND (result IS NULL OR result = 'acked')")) {
            p.setString(1, leaseId);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getLong(1) : 0;
            }
        }
    }
}
