package io.ironruntime.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

class LedgerStoreTest {
    @TempDir
    Path dir;

    static LedgerRow row(String requestId, String budgetId, long costPicos) {
        return new LedgerRow(System.currentTimeMillis(), requestId, budgetId, null, "openai", "gpt-4o-mini",
                100, 0, 0, 20, costPicos, true, false, 200, "completed", 12, 1, null, 0, false);
    }

    private static long[] countAndSum(Path db) throws Exception {
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT COUNT(*), COALESCE(SUM(cost_picos), 0) FROM ledger")) {
            r.next();
            return new long[] {r.getLong(1), r.getLong(2)};
        }
    }

    @Test
    void auditRowsAreCommittedWithLedgerRowsAndAVersionOneDatabaseGainsTheTable() throws Exception {
        Path db = dir.resolve("old.db");
        // A database as the first release wrote it: schema version 1, no pii_audit table.
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.executeUpdate("CREATE TABLE schema_version (version INTEGER NOT NULL)");
            s.executeUpdate("INSERT INTO schema_version VALUES (1)");
            s.executeUpdate("CREATE TABLE ledger (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, request_id TEXT NOT NULL UNIQUE,"
                    + " budget_id TEXT, agent_id TEXT, provider TEXT NOT NULL, model TEXT, input_tokens INTEGER NOT NULL,"
                    + " cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,"
                    + " cost_picos INTEGER NOT NULL, cost_usd REAL NOT NULL, cost_known INTEGER NOT NULL,"
                    + " usage_estimated INTEGER NOT NULL, status INTEGER NOT NULL, outcome TEXT NOT NULL,"
                    + " latency_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 1)");
            s.executeUpdate("CREATE TABLE budget_totals (budget_id TEXT PRIMARY KEY, spent_picos INTEGER NOT NULL)");
        }
        try (LedgerStore store = LedgerStore.open(db)) {
            store.append(row("req-a", null, 10));
            store.append(new PiiAuditRow(1L, "req-a", null, "request", "EMAIL", "redacted", "0123456789abcdef",
                    "messages[0].content", 5, 25));
            store.append(new PiiAuditRow(2L, "req-a", null, "response", "CREDIT_CARD", "redacted", "fedcba9876543210",
                    "choices[0].content", 0, 19));
            assertTrue(store.flush(10_000));
            assertEquals(0, store.pending());
        }
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + db); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT direction, entity_type, action, value_hash, field, start_offset, end_offset"
                        + " FROM pii_audit ORDER BY id")) {
            assertTrue(r.next());
            assertEquals("request|EMAIL|redacted|0123456789abcdef|messages[0].content|5|25", r.getString(1) + "|"
                    + r.getString(2) + "|" + r.getString(3) + "|" + r.getString(4) + "|" + r.getString(5) + "|"
                    + r.getLong(6) + "|" + r.getLong(7));
            assertTrue(r.next());
            assertEquals("CREDIT_CARD", r.getString(2));
        }
        assertEquals(1, countAndSum(db)[0]);
    }

    @Test
    void budgetTotalsFollowTheRowsAndAWatcherSeesOtherWriters() throws Exception {
        Path db = dir.resolve("shared.db");
        java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong(-1);
        try (LedgerStore mine = LedgerStore.open(db); LedgerStore theirs = LedgerStore.open(db)) {
            mine.append(row("m-1", "shared", 5_000));
            assertTrue(mine.flush(10_000));
            mine.watchBudget("shared", seen::set);
            theirs.append(row("t-1", "shared", 700));
            theirs.append(row("t-2", "shared", 300));
            theirs.append(row("t-2", "shared", 300)); // the same request twice: ignored, not counted
            theirs.append(row("t-3", "elsewhere", 99));
            assertTrue(theirs.flush(10_000));
            mine.append(row("m-2", "shared", 2_000)); // our own spend is not "others"
            assertTrue(mine.flush(10_000));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (seen.get() != 1_000 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1_000, seen.get(), "what the other writer spent since the watch began");
            assertEquals(8_000, mine.spentPicos("shared"));
            assertEquals(99, theirs.spentPicos("elsewhere"));
        }
        long[] all = countAndSum(db);
        assertEquals(5, all[0]);
        assertEquals(8_099, all[1], "budget_totals equal the sums of the rows");
    }

    @Test
    void concurrentAppendsAreAllCommittedAndReadableWithPlainSql() throws Exception {
        Path db = dir.resolve("state/iron.db");
        try (LedgerStore store = LedgerStore.open(db)) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    for (int i = 0; i < 500; i++) {
                        store.append(row("req-" + id + "-" + i, "team", 1_000 + i));
                    }
                });
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join();
            }
            assertTrue(store.flush(30_000));
            long expected = 8L * (500L * 1_000 + 499L * 500 / 2);
            assertEquals(expected, store.spentPicos("team"));
            assertEquals(0, store.spentPicos("other"));
        }
        long[] cs = countAndSum(db);
        assertEquals(4_000, cs[0]);
        assertEquals(8L * (500L * 1_000 + 499L * 500 / 2), cs[1]);
    }

    @Test
    void aRequestIsRecordedOnceAndSpendSurvivesReopening() throws Exception {
        Path db = dir.resolve("iron.db");
        try (LedgerStore store = LedgerStore.open(db)) {
            store.append(row("req-1", "b", 5_000));
            store.append(row("req-1", "b", 5_000)); // a retried settle of the same request
            store.append(row("req-2", "b", 7_000));
            assertTrue(store.flush(30_000));
        }
        try (LedgerStore again = LedgerStore.open(db)) {
            assertEquals(12_000, again.spentPicos("b"));
        }
    }

    @Test
    void aKilledProcessLosesNoCommittedRow() throws Exception {
        Path db = dir.resolve("crash.db");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LedgerCrashChild.class.getName(), db.toString()).redirectErrorStream(true).start();
        long lastCommitted = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line;
            while (lastCommitted < 1_000 && System.nanoTime() < deadline && (line = out.readLine()) != null) {
                if (line.startsWith("committed ")) {
                    lastCommitted = Long.parseLong(line.substring(10));
                }
            }
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no close
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        assertTrue(lastCommitted >= 1_000, "the child reported " + lastCommitted + " committed rows");
        long[] cs = countAndSum(db);
        assertTrue(cs[0] >= lastCommitted, "rows " + cs[0] + " < committed " + lastCommitted);
        assertEquals(cs[0] * 1_000, cs[1], "every row is whole");
        try (LedgerStore reopened = LedgerStore.open(db)) {
            assertEquals(cs[1], reopened.spentPicos("crash-budget"), "the persisted spend is the sum of the rows");
        }
    }
}
