package io.ironruntime.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/** Schema 5: the ledger as a request history (trace, PII count, stream), upgraded from a version 4 file. */
class RequestHistoryTest {
    private static final String TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @TempDir
    Path dir;

    private static LedgerRow row(long ts, String requestId, String agentId, String traceparent, int pii, Boolean stream) {
        return new LedgerRow(ts, requestId, null, agentId, "openai", "gpt-4o-mini", 100, 30, 0, 20, 5_000, true, false,
                200, "completed", 12, 1, traceparent, pii, stream);
    }

    private static Connection plain(Path db) throws Exception {
        return new SQLiteConfig().createConnection("jdbc:sqlite:" + db);
    }

    @Test
    void aVersionFourDatabaseGainsTheColumnsAndItsOldRowsCountTheirPiiFromTheAudit() throws Exception {
        Path db = dir.resolve("v4.db");
        try (LedgerStore store = LedgerStore.open(db)) {
            store.append(row(1_000, "old-1", "agent_1", TRACE, 2, true));
            store.append(new PiiAuditRow(1_000, "old-1", "agent_1", "request", "EMAIL", "redacted", "0123456789abcdef",
                    "messages[0].content", 5, 25));
            store.append(new PiiAuditRow(1_000, "old-1", "agent_1", "response", "PHONE", "redacted", "fedcba9876543210",
                    "choices[0].message.content", 0, 12));
            store.append(row(1_001, "old-2", null, TRACE, 0, false));
            assertTrue(store.flush(10_000));
        }
        // Back to what version 4 wrote: the ledger without the three columns, no version 5 or 6 rows.
        try (Connection c = plain(db); Statement s = c.createStatement()) {
            for (String column : List.of("traceparent", "pii_detections", "stream")) {
                s.executeUpdate("ALTER TABLE ledger DROP COLUMN " + column);
            }
            s.executeUpdate("DELETE FROM schema_version WHERE version >= 5");
            s.executeUpdate("DROP TABLE control_outbox");
            s.executeUpdate("DROP TABLE control_leases");
        }

        try (LedgerStore store = LedgerStore.open(db)) {
            store.append(row(2_000, "new-1", "agent_1", TRACE, 1, true));
            assertTrue(store.flush(10_000));
            List<LedgerRow> all = store.newestRequests(10, null);
            assertEquals(List.of("new-1", "old-2", "old-1"), all.stream().map(LedgerRow::requestId).toList(),
                    "newest first");
            LedgerRow fresh = all.get(0);
            assertEquals(TRACE, fresh.traceparent());
            assertEquals(1, fresh.piiDetections());
            assertEquals(Boolean.TRUE, fresh.stream());
            assertEquals(130, fresh.totalInputTokens());
            LedgerRow old = all.get(2);
            assertNull(old.traceparent(), "not recorded before schema 5");
            assertNull(old.stream(), "unknown, not false");
            assertEquals(2, old.piiDetections(), "counted from pii_audit");
            assertEquals(0, all.get(1).piiDetections());
            assertEquals(5_000, old.costPicos());

            assertEquals(List.of("new-1", "old-1"), store.newestRequests(10, "agent_1").stream()
                    .map(LedgerRow::requestId).toList());
            assertEquals(List.of("new-1"), store.newestRequests(1, "agent_1").stream().map(LedgerRow::requestId).toList());
            assertEquals(List.of(), store.newestRequests(10, "agent_9"));
        }
        try (Connection c = plain(db); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT group_concat(version) FROM (SELECT version FROM schema_version"
                        + " ORDER BY version)")) {
            assertEquals("1,2,3,4,5,6", r.getString(1));
        }
    }

    @Test
    void aStoreOpenedTwiceAddsTheColumnsOnce() throws Exception {
        Path db = dir.resolve("twice.db");
        LedgerStore.open(db).close();
        try (LedgerStore again = LedgerStore.open(db)) {
            again.append(row(1, "r-1", null, null, 0, null));
            assertTrue(again.flush(10_000));
            LedgerRow back = again.newestRequests(5, null).get(0);
            assertNull(back.traceparent());
            assertNull(back.stream());
        }
    }
}
