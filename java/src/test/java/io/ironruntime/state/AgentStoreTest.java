package io.ironruntime.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

class AgentStoreTest {
    @TempDir
    Path dir;

    static AgentRow agent(String id, String runtime, String status, long startedAt) {
        return new AgentRow(id, runtime, "worker", "agent.py", "[\"--fast\"]", null, "on-failure", 3, status, null, null,
                0, startedAt, null, null);
    }

    static LedgerRow ledger(String requestId, String agentId, long input, long cacheRead, long cacheWrite, long output,
            long costPicos) {
        return new LedgerRow(1L, requestId, null, agentId, "openai", "gpt-4o-mini", input, cacheRead, cacheWrite, output,
                costPicos, true, false, 200, "completed", 5, 1, null, 0, false);
    }

    static PiiAuditRow detection(String requestId, String agentId) {
        return new PiiAuditRow(1L, requestId, agentId, "request", "EMAIL", "redacted", "0123456789abcdef",
                "messages[0].content", 0, 10);
    }

    private static Connection plain(Path db) throws Exception {
        return new SQLiteConfig().createConnection("jdbc:sqlite:" + db);
    }

    private static String one(Path db, String sql) throws Exception {
        try (Connection c = plain(db); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            return r.next() ? r.getString(1) : null;
        }
    }

    @Test
    void aVersionTwoDatabaseGainsTheAgentTablesAndKeepsItsRows() throws Exception {
        Path db = dir.resolve("v2.db");
        try (LedgerStore store = LedgerStore.open(db)) {
            store.append(ledger("old-1", "agent_old", 100, 0, 0, 10, 7_000));
            assertTrue(store.flush(10_000));
        }
        // Back to what the version 2 code wrote: no agent or event tables, no agent indexes, no versions 3 to 6
        // (the ledger keeps the version 5 columns, the control tables stay: the upgrade adds only what is missing).
        try (Connection c = plain(db); Statement s = c.createStatement()) {
            for (String t : List.of("agents", "agent_status_history", "runtimes", "events")) {
                s.executeUpdate("DROP TABLE " + t);
            }
            s.executeUpdate("DROP INDEX ledger_agent");
            s.executeUpdate("DROP INDEX pii_audit_agent");
            s.executeUpdate("DELETE FROM schema_version WHERE version >= 3");
        }
        assertEquals("2", one(db, "SELECT MAX(version) FROM schema_version"));
        assertNull(one(db, "SELECT name FROM sqlite_master WHERE name = 'agents'"));

        try (LedgerStore store = LedgerStore.open(db)) {
            assertEquals(new AgentTotals("agent_old", 7_000, 1, 100, 10, 0), store.totals("agent_old"));
            store.append(agent("agent_new", "rt-1", "running", 5));
            assertTrue(store.flush(10_000));
            assertEquals("agent_new", store.agent("agent_new").agentId());
        }
        assertEquals("6", one(db, "SELECT MAX(version) FROM schema_version"));
        assertEquals("1,2,3,4,5,6", one(db, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY version)"));
        assertEquals("1", one(db, "SELECT COUNT(*) FROM ledger"));
        for (String name : List.of("agents", "agent_status_history", "runtimes", "agent_status_history_agent",
                "ledger_agent", "pii_audit_agent")) {
            assertEquals(name, one(db, "SELECT name FROM sqlite_master WHERE name = '" + name + "'"));
        }
    }

    @Test
    void theLatestAppendOfAnAgentWinsAndAgentsAreListedNewestFirst() throws Exception {
        Path db = dir.resolve("agents.db");
        try (LedgerStore store = LedgerStore.open(db)) {
            store.append(agent("agent_a", "rt-1", "starting", 1_000));
            store.append(new AgentRow("agent_a", "rt-1", "worker", "agent.py", "[\"--fast\"]", 2_500_000_000_000L,
                    "on-failure", 3, "running", 4242L, null, 0, 1_000, null, null));
            store.append(agent("agent_b", "rt-1", "starting", 3_000));
            assertTrue(store.flush(10_000));
            store.append(new AgentRow("agent_a", "rt-1", "worker", "agent.py", "[\"--fast\"]", 2_500_000_000_000L,
                    "on-failure", 3, "failed", 4243L, 1, 3, 1_000, 9_000L, "exited with code 1; restarted 3 times"));
            assertTrue(store.flush(10_000));

            AgentRow a = store.agent("agent_a");
            assertEquals(new AgentRow("agent_a", "rt-1", "worker", "agent.py", "[\"--fast\"]", 2_500_000_000_000L,
                    "on-failure", 3, "failed", 4243L, 1, 3, 1_000, 9_000L, "exited with code 1; restarted 3 times"), a);
            assertEquals(agent("agent_b", "rt-1", "starting", 3_000), store.agent("agent_b"), "nulls read back as nulls");
            assertNull(store.agent("agent_nobody"));
            List<String> order = new ArrayList<>();
            for (AgentRow r : store.agents()) {
                order.add(r.agentId());
            }
            assertEquals(List.of("agent_b", "agent_a"), order);
        }
        assertEquals("1", one(db, "SELECT COUNT(*) FROM agents WHERE agent_id = 'agent_a'"));
    }

    @Test
    void historyIsReadInTheOrderItWasAppended() throws Exception {
        try (LedgerStore store = LedgerStore.open(dir.resolve("history.db"))) {
            List<AgentStatusRow> expected = List.of(
                    new AgentStatusRow("agent_a", 10, "starting", null, null, null),
                    new AgentStatusRow("agent_a", 11, "running", 100L, null, null),
                    new AgentStatusRow("agent_a", 11, "restarting", 100L, 1, "exited with code 1; restart 1 in 0.5 s"),
                    new AgentStatusRow("agent_a", 12, "running", 101L, null, null),
                    new AgentStatusRow("agent_a", 13, "completed", 101L, 0, "exited with code 0"));
            store.append(expected.get(0));
            store.append(expected.get(1));
            store.append(new AgentStatusRow("agent_other", 11, "running", 7L, null, null));
            assertTrue(store.flush(10_000));
            for (AgentStatusRow r : expected.subList(2, expected.size())) {
                store.append(r);
            }
            assertTrue(store.flush(10_000));
            assertEquals(expected, store.history("agent_a"));
            assertEquals(1, store.history("agent_other").size());
            assertEquals(List.of(), store.history("agent_nobody"));
        }
    }

    @Test
    void totalsComeFromTheLedgerAndAuditRowsOfEachAgent() throws Exception {
        try (LedgerStore store = LedgerStore.open(dir.resolve("totals.db"))) {
            store.append(agent("agent_a", "rt-1", "running", 1));
            store.append(agent("agent_b", "rt-1", "running", 2));
            store.append(agent("agent_idle", "rt-1", "running", 3));
            store.append(ledger("r1", "agent_a", 100, 20, 5, 40, 1_000_000));
            store.append(ledger("r2", "agent_a", 200, 0, 0, 60, 2_500_000));
            store.append(ledger("r2", "agent_a", 200, 0, 0, 60, 2_500_000)); // a repeated settle: ignored
            store.append(ledger("r3", "agent_b", 7, 0, 0, 3, 99));
            store.append(ledger("r4", null, 1_000, 0, 0, 1_000, 1_000_000_000)); // the router's own caller
            store.append(ledger("r5", "agent_gone", 1, 0, 0, 1, 1)); // no agents row
            store.append(detection("r1", "agent_a"));
            store.append(detection("r1", "agent_a"));
            store.append(detection("r3", "agent_b"));
            store.append(detection("r4", null));
            assertTrue(store.flush(10_000));

            AgentTotals a = new AgentTotals("agent_a", 3_500_000, 2, 325, 100, 2);
            AgentTotals b = new AgentTotals("agent_b", 99, 1, 7, 3, 1);
            assertEquals(a, store.totals("agent_a"));
            assertEquals(b, store.totals("agent_b"));
            assertEquals(AgentTotals.none("agent_idle"), store.totals("agent_idle"));
            assertEquals(AgentTotals.none("agent_nobody"), store.totals("agent_nobody"));
            assertEquals(new AgentTotals("agent_gone", 1, 1, 1, 1, 0), store.totals("agent_gone"));

            Map<String, AgentTotals> all = store.totalsByAgent();
            assertEquals(List.of("agent_idle", "agent_b", "agent_a"), new ArrayList<>(all.keySet()),
                    "the agents of the agents table, newest first");
            assertEquals(a, all.get("agent_a"));
            assertEquals(b, all.get("agent_b"));
            assertEquals(AgentTotals.none("agent_idle"), all.get("agent_idle"));
        }
    }

    @Test
    void oneAgentsTotalsUseTheAgentIndexes() throws Exception {
        Path db = dir.resolve("plan.db");
        LedgerStore.open(db).close();
        try (Connection c = plain(db); Statement s = c.createStatement()) {
            for (String table : List.of("ledger", "pii_audit")) {
                StringBuilder plan = new StringBuilder();
                try (ResultSet r = s.executeQuery("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM " + table + " WHERE agent_id = 'x'")) {
                    while (r.next()) {
                        plan.append(r.getString(4)).append('\n');
                    }
                }
                assertTrue(plan.toString().contains(table + "_agent"), plan.toString());
            }
        }
    }

    @Test
    void agentsOfRuntimesWhoseProcessIsGoneAreEndedOnce() throws Exception {
        Path db = dir.resolve("orphans.db");
        Process exited = new ProcessBuilder("true").start();
        assertTrue(exited.waitFor(10, TimeUnit.SECONDS));
        try (LedgerStore other = LedgerStore.open(db); LedgerStore store = LedgerStore.open(db)) {
            assertEquals(0, other.endOrphans("rt-alive", 50)); // a runtime running in this process
            store.append(agent("agent_unrecorded", "rt-unrecorded", "running", 1)); // its runtime never recorded a process
            store.append(new AgentRow("agent_paused", "rt-exited", null, "a.py", "[]", 5L, "never", 0, "paused",
                    31L, null, 0, 2, null, null));
            store.append(agent("agent_restarting", "rt-reused", "restarting", 3));
            store.append(agent("agent_done", "rt-exited", "completed", 4));
            store.append(agent("agent_elsewhere", "rt-alive", "running", 5));
            store.append(agent("agent_mine", "rt-now", "running", 6));
            assertTrue(store.flush(10_000));
            try (Connection c = plain(db); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO runtimes VALUES ('rt-exited', " + exited.pid() + ", NULL, 1)");
                // This process's pid, but a process that started long ago: the pid was reused.
                s.executeUpdate("INSERT INTO runtimes VALUES ('rt-reused', " + ProcessHandle.current().pid() + ", 12345, 1)");
            }

            assertEquals(3, store.endOrphans("rt-now", 777));

            for (String id : List.of("agent_unrecorded", "agent_paused", "agent_restarting")) {
                AgentRow r = store.agent(id);
                assertEquals("stopped", r.status(), id);
                assertEquals(777L, r.endedAtMs());
                assertEquals("its runtime ended before it did", r.lastError());
                List<AgentStatusRow> h = store.history(id);
                assertEquals(1, h.size());
                assertEquals(new AgentStatusRow(id, 777, "stopped", r.pid(), null, "its runtime ended before it did"),
                        h.get(0));
            }
            assertEquals(31L, store.agent("agent_paused").pid());
            assertEquals("completed", store.agent("agent_done").status());
            assertNull(store.agent("agent_done").endedAtMs());
            assertEquals("running", store.agent("agent_elsewhere").status(), "its runtime is alive");
            assertEquals("running", store.agent("agent_mine").status());
            assertEquals(List.of(), store.history("agent_done"));

            assertEquals(0, store.endOrphans("rt-now", 888), "already ended");
            assertEquals(1, store.history("agent_paused").size());
        }
        assertEquals(String.valueOf(ProcessHandle.current().pid()),
                one(db, "SELECT pid FROM runtimes WHERE runtime_id = 'rt-now'"));
    }

    @Test
    void rowsMissingARequiredColumnAreRefusedWhenMadeNotRetriedForever() {
        assertThrows(NullPointerException.class, () -> new AgentRow("agent_a", "rt", null, null, "[]", null, "never", 3,
                "running", null, null, 0, 1, null, null));
        assertThrows(NullPointerException.class, () -> new AgentStatusRow("agent_a", 1, null, null, null, null));
    }

    @Test
    void theTablesAreReadableWithPythonsSqlite3() throws Exception {
        Path db = dir.resolve("python.db");
        try (LedgerStore store = LedgerStore.open(db)) {
            store.append(new AgentRow("agent_p", "rt-1", "näme", "agent.py", "[\"a b\", \"ü\"]", 1_000_000_000_000L,
                    "always", 5, "running", 12L, null, 0, 42, null, null));
            store.append(new AgentStatusRow("agent_p", 43, "running", 12L, null, null));
            store.append(ledger("r1", "agent_p", 10, 0, 0, 2, 300));
            assertTrue(store.flush(10_000));
            Process py;
            try {
                py = new ProcessBuilder("python3", "-c", "import sqlite3, sys, json\n"
                        + "c = sqlite3.connect(sys.argv[1])\n"
                        + "a = c.execute('SELECT agent_id, name, args_json, budget_limit_picos, status, pid, exit_code,"
                        + " restarts FROM agents').fetchone()\n"
                        + "h = c.execute('SELECT status, pid FROM agent_status_history').fetchall()\n"
                        + "s = c.execute(\"SELECT SUM(cost_picos) FROM ledger WHERE agent_id = 'agent_p'\").fetchone()[0]\n"
                        + "print(json.dumps([a[0], a[1], json.loads(a[2]), a[3], a[4], a[5], a[6], a[7], h, s]))\n",
                        db.toString()).redirectErrorStream(true).start();
            } catch (java.io.IOException e) {
                Assumptions.abort("no python3: " + e.getMessage());
                return;
            }
            String out = new String(py.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(py.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, py.exitValue(), out);
            assertEquals("[\"agent_p\", \"n\\u00e4me\", [\"a b\", \"\\u00fc\"], 1000000000000, \"running\", 12, null, 0,"
                    + " [[\"running\", 12]], 300]", out);
        }
    }

    @Test
    void aNewerSchemaIsRefused() throws Exception {
        Path db = dir.resolve("newer.db");
        LedgerStore.open(db).close();
        try (Connection c = plain(db); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO schema_version VALUES (" + (LedgerStore.SCHEMA_VERSION + 1) + ")");
        }
        java.sql.SQLException e = assertThrows(java.sql.SQLException.class, () -> LedgerStore.open(db));
        assertTrue(e.getMessage().contains("newer iron-runtime (schema " + (LedgerStore.SCHEMA_VERSION + 1) + ")"),
                e.getMessage());
        assertFalse(e.getMessage().isEmpty());
    }
}
