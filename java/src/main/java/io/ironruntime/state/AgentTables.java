package io.ironruntime.state;

import static io.ironruntime.state.SqlValues.getInt;
import static io.ironruntime.state.SqlValues.getLong;
import static io.ironruntime.state.SqlValues.setInt;
import static io.ironruntime.state.SqlValues.setLong;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The SQL of the agent tables (schema version 3); {@link LedgerStore} decides on which thread and
 * under which lock it runs.
 *
 * <pre>
 * agents(agent_id TEXT PRIMARY KEY, runtime_id, name, script, args_json, budget_limit_picos (NULL: none),
 *        restart_policy, max_restarts, status, pid, exit_code, restarts, started_at_ms, ended_at_ms, last_error)
 * agent_status_history(id INTEGER PRIMARY KEY, agent_id, ts_ms, status, pid, exit_code, detail)
 * runtimes(runtime_id TEXT PRIMARY KEY, pid, process_started_ms, started_at_ms)
 *        -- the process each runtime lives in: how a runtime tells a dead one from one running elsewhere
 * </pre>
 */
final class AgentTables {
    /** The final statuses, as {@code AgentStatus.ended()} has them. */
    static final String ENDED = "('stopped', 'completed', 'failed')";
    static final String ORPHAN_ERROR = "its runtime ended before it did";
    private static final String UPSERT = "INSERT INTO agents (agent_id, runtime_id, name, script, args_json,"
            + " budget_limit_picos, restart_policy, max_restarts, status, pid, exit_code, restarts, started_at_ms,"
            + " ended_at_ms, last_error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (agent_id) DO UPDATE SET"
            + " runtime_id = excluded.runtime_id, name = excluded.name, script = excluded.script,"
            + " args_json = excluded.args_json, budget_limit_picos = excluded.budget_limit_picos,"
            + " restart_policy = excluded.restart_policy, max_restarts = excluded.max_restarts,"
            + " status = excluded.status, pid = excluded.pid, exit_code = excluded.exit_code,"
            + " restarts = excluded.restarts, started_at_ms = excluded.started_at_ms,"
            + " ended_at_ms = excluded.ended_at_ms, last_error = excluded.last_error";
    private static final String INSERT_HISTORY = "INSERT INTO agent_status_history (agent_id, ts_ms, status, pid,"
            + " exit_code, detail) VALUES (?,?,?,?,?,?)";
    private static final String COLUMNS = "agent_id, runtime_id, name, script, args_json, budget_limit_picos,"
            + " restart_policy, max_restarts, status, pid, exit_code, restarts, started_at_ms, ended_at_ms, last_error";
    /** Per-agent sums; {@code %s} narrows the rows (one agent, or the agents of the agents table). */
    private static final String LEDGER_SUMS = "SELECT agent_id, SUM(cost_picos) AS spent, COUNT(*) AS requests,"
            + " SUM(input_tokens + cache_read_tokens + cache_write_tokens) AS input, SUM(output_tokens) AS output"
            + " FROM ledger WHERE %s GROUP BY agent_id";
    private static final String PII_COUNTS = "SELECT agent_id, COUNT(*) AS detections FROM pii_audit WHERE %s"
            + " GROUP BY agent_id";

    private AgentTables() {
    }

    static void create(Statement s) throws SQLException {
        s.executeUpdate("CREATE TABLE IF NOT EXISTS agents (agent_id TEXT PRIMARY KEY, runtime_id TEXT NOT NULL,"
                + " name TEXT, script TEXT NOT NULL, args_json TEXT NOT NULL, budget_limit_picos INTEGER,"
                + " restart_policy TEXT NOT NULL, max_restarts INTEGER NOT NULL, status TEXT NOT NULL, pid INTEGER,"
                + " exit_code INTEGER, restarts INTEGER NOT NULL, started_at_ms INTEGER NOT NULL, ended_at_ms INTEGER,"
                + " last_error TEXT)");
        s.executeUpdate("CREATE TABLE IF NOT EXISTS agent_status_history (id INTEGER PRIMARY KEY,"
                + " agent_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, status TEXT NOT NULL, pid INTEGER,"
                + " exit_code INTEGER, detail TEXT)");
        s.executeUpdate("CREATE INDEX IF NOT EXISTS agent_status_history_agent ON agent_status_history (agent_id)");
        s.executeUpdate("CREATE TABLE IF NOT EXISTS runtimes (runtime_id TEXT PRIMARY KEY, pid INTEGER NOT NULL,"
                + " process_started_ms INTEGER, started_at_ms INTEGER NOT NULL)");
        // Partial: a router without agents (agent_id NULL) pays nothing more per ledger or audit row,
        // and "WHERE agent_id = ?" can still use them.
        s.executeUpdate("CREATE INDEX IF NOT EXISTS ledger_agent ON ledger (agent_id) WHERE agent_id IS NOT NULL");
        s.executeUpdate("CREATE INDEX IF NOT EXISTS pii_audit_agent ON pii_audit (agent_id) WHERE agent_id IS NOT NULL");
    }

    /** Upserts and history inserts of one batch, in the order they were appended. */
    static void write(Connection c, List<AgentRow> agents, List<AgentStatusRow> history) throws SQLException {
        if (!agents.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement(UPSERT)) {
                for (AgentRow a : agents) {
                    bind(p, a);
                    p.addBatch();
                }
                p.executeBatch();
            }
        }
        if (!history.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement(INSERT_HISTORY)) {
                for (AgentStatusRow h : history) {
                    p.setString(1, h.agentId());
                    p.setLong(2, h.timestampMs());
                    p.setString(3, h.status());
                    setLong(p, 4, h.pid());
                    setInt(p, 5, h.exitCode());
                    p.setString(6, h.detail());
                    p.addBatch();
                }
                p.executeBatch();
            }
        }
    }

    private static void bind(PreparedStatement p, AgentRow a) throws SQLException {
        p.setString(1, a.agentId());
        p.setString(2, a.runtimeId());
        p.setString(3, a.name());
        p.setString(4, a.script());
        p.setString(5, a.argsJson());
        setLong(p, 6, a.budgetLimitPicos());
        p.setString(7, a.restartPolicy());
        p.setInt(8, a.maxRestarts());
        p.setString(9, a.status());
        setLong(p, 10, a.pid());
        setInt(p, 11, a.exitCode());
        p.setInt(12, a.restarts());
        p.setLong(13, a.startedAtMs());
        setLong(p, 14, a.endedAtMs());
        p.setString(15, a.lastError());
    }

    /** Every agent, newest first. */
    static List<AgentRow> agents(Connection c) throws SQLException {
        List<AgentRow> all = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT " + COLUMNS + " FROM agents ORDER BY started_at_ms DESC, rowid DESC")) {
            while (r.next()) {
                all.add(agent(r));
            }
        }
        return all;
    }

    static AgentRow agent(Connection c, String agentId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM agents WHERE agent_id = ?")) {
            p.setString(1, agentId);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? agent(r) : null;
            }
        }
    }

    private static AgentRow agent(ResultSet r) throws SQLException {
        return new AgentRow(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                getLong(r, 6), r.getString(7), r.getInt(8), r.getString(9), getLong(r, 10), getInt(r, 11), r.getInt(12),
                r.getLong(13), getLong(r, 14), r.getString(15));
    }

    /** One agent's status changes, oldest first. */
    static List<AgentStatusRow> history(Connection c, String agentId) throws SQLException {
        List<AgentStatusRow> rows = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT agent_id, ts_ms, status, pid, exit_code, detail"
                + " FROM agent_status_history WHERE agent_id = ? ORDER BY id")) {
            p.setString(1, agentId);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    rows.add(new AgentStatusRow(r.getString(1), r.getLong(2), r.getString(3), getLong(r, 4),
                            getInt(r, 5), r.getString(6)));
                }
            }
        }
        return rows;
    }

    /** One agent's totals (zeros when it has no rows, or does not exist). */
    static AgentTotals totals(Connection c, String agentId) throws SQLException {
        Map<String, AgentTotals> one = totals(c, "agent_id = ?", agentId);
        return one.getOrDefault(agentId, AgentTotals.none(agentId));
    }

    /** The totals of every agent of the agents table, in one query, in {@link #agents} order. */
    static Map<String, AgentTotals> totalsByAgent(Connection c) throws SQLException {
        return totals(c, "agent_id IN (SELECT agent_id FROM agents)", null);
    }

    private static Map<String, AgentTotals> totals(Connection c, String where, String agentId) throws SQLException {
        String sql = "SELECT a.agent_id, COALESCE(l.spent, 0), COALESCE(l.requests, 0), COALESCE(l.input, 0),"
                + " COALESCE(l.output, 0), COALESCE(p.detections, 0) FROM "
                + (agentId == null ? "agents a" : "(SELECT ? AS agent_id) a")
                + " LEFT JOIN (" + LEDGER_SUMS.formatted(where) + ") l ON l.agent_id = a.agent_id"
                + " LEFT JOIN (" + PII_COUNTS.formatted(where) + ") p ON p.agent_id = a.agent_id"
                + (agentId == null ? " ORDER BY a.started_at_ms DESC, a.rowid DESC" : "");
        Map<String, AgentTotals> byAgent = new LinkedHashMap<>();
        try (PreparedStatement p = c.prepareStatement(sql)) {
            if (agentId != null) {
                p.setString(1, agentId);
                p.setString(2, agentId);
                p.setString(3, agentId);
            }
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    byAgent.put(r.getString(1), new AgentTotals(r.getString(1), r.getLong(2), r.getLong(3), r.getLong(4),
                            r.getLong(5), r.getLong(6)));
                }
            }
        }
        return byAgent;
    }

    /**
     * Records {@code runtimeId} as running in this process, then ends the agents whose runtime is gone:
     * not ended, of another runtime whose process is no longer alive (or that never recorded one).
     * The caller runs this in a transaction; the first statement writes, so the transaction holds the
     * write lock from the start and two runtimes opening at once sweep one after the other.
     */
    static int endOrphans(Connection c, String runtimeId, long nowMillis) throws SQLException {
        ProcessHandle self = ProcessHandle.current();
        try (PreparedStatement p = c.prepareStatement("INSERT INTO runtimes (runtime_id, pid, process_started_ms,"
                + " started_at_ms) VALUES (?,?,?,?) ON CONFLICT (runtime_id) DO UPDATE SET pid = excluded.pid,"
                + " process_started_ms = excluded.process_started_ms")) {
            p.setString(1, runtimeId);
            p.setLong(2, self.pid());
            setLong(p, 3, startedMillis(self).orElse(null));
            p.setLong(4, nowMillis);
            p.executeUpdate();
        }
        List<String> gone = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT DISTINCT a.runtime_id, r.pid, r.process_started_ms"
                + " FROM agents a LEFT JOIN runtimes r ON r.runtime_id = a.runtime_id"
                + " WHERE a.runtime_id <> ? AND a.status NOT IN " + ENDED)) {
            p.setString(1, runtimeId);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    if (!alive(getLong(r, 2), getLong(r, 3))) {
                        gone.add(r.getString(1));
                    }
                }
            }
        }
        int ended = 0;
        for (String runtime : gone) {
            List<AgentStatusRow> orphans = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT agent_id, pid FROM agents"
                    + " WHERE runtime_id = ? AND status NOT IN " + ENDED)) {
                p.setString(1, runtime);
                try (ResultSet r = p.executeQuery()) {
                    while (r.next()) {
                        orphans.add(new AgentStatusRow(r.getString(1), nowMillis, "stopped", getLong(r, 2), null,
                                ORPHAN_ERROR));
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE agents SET status = 'stopped', ended_at_ms = ?,"
                    + " last_error = ? WHERE agent_id = ?")) {
                for (AgentStatusRow o : orphans) {
                    p.setLong(1, nowMillis);
                    p.setString(2, ORPHAN_ERROR);
                    p.setString(3, o.agentId());
                    p.addBatch();
                }
                p.executeBatch();
            }
            write(c, List.of(), orphans);
            ended += orphans.size();
        }
        return ended;
    }

    /**
     * Whether the process a runtime recorded still runs. The start time tells a reused pid from the
     * original process (WAL needs every writer on one host, so the pid is meaningful here).
     */
    static boolean alive(Long pid, Long processStartedMillis) {
        if (pid == null) {
            return false;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (p.isEmpty()) {
            return false;
        }
        Optional<Long> started = startedMillis(p.get());
        // Start instants come from clock ticks since boot: allow a second of rounding between readers.
        return processStartedMillis == null || started.isEmpty() || Math.abs(started.get() - processStartedMillis) <= 1_000;
    }

    private static Optional<Long> startedMillis(ProcessHandle p) {
        return p.info().startInstant().map(Instant::toEpochMilli);
    }



}
