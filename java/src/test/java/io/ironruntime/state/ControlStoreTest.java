package io.ironruntime.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Control-server rows in a real SQLite file: written with their ledger row, adopted, finished, pruned. */
class ControlStoreTest {
    @TempDir
    Path dir;

    private static OutboxRow report(String requestId, ControlOwner owner, ControlScope scope, String lease, long micros) {
        return new OutboxRow(OutboxRow.REPORT, requestId, scope.key(), owner, lease, micros,
                "{\"request_id\":\"" + requestId + "\"}", System.currentTimeMillis());
    }

    @Test
    void owedRowsAreCommittedWithTheirLedgerRowAndNeverHoldTheToken() throws Exception {
        Path file = dir.resolve("db.sqlite");
        ControlScope scope = ControlScope.of("http://ic", "eyJ.secret.token");
        ControlOwner me = ControlOwner.fresh();
        try (LedgerStore store = LedgerStore.open(file)) {
            ControlStore control = new ControlStore(store, scope, me);
            control.record(LedgerStoreTest.row("req_1", null, 7_500_000), List.of(report("req_1", me, scope, "lease_a", 7)));
            assertTrue(store.flush(5_000));
            List<OutboxItem> pending = control.pending(OutboxRow.REPORT, 10);
            assertEquals(1, pending.size());
            assertEquals("lease_a", pending.get(0).leaseId());
            assertEquals(7, control.chargedMicros("lease_a"));
            control.finish(List.of(pending.get(0).id()), "acked", 1);
            assertEquals(0, control.countPending(OutboxRow.REPORT));
            assertEquals(7, control.chargedMicros("lease_a"), "acknowledged charges still count for the return");
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT scope, body FROM control_outbox")) {
            assertTrue(r.next());
            assertTrue(!r.getString(1).contains("secret") && !r.getString(2).contains("secret"));
        }
    }

    @Test
    void aLaterSessionAdoptsWhatAStoppedOrDeadSessionLeftButNotALiveOnesRows() throws Exception {
        ControlScope scope = ControlScope.of("http://ic", "token-1");
        ControlScope other = ControlScope.of("http://ic", "token-2");
        ControlOwner first = ControlOwner.fresh();
        ControlOwner dead = new ControlOwner("session_dead", 999_999_999L, 1L);
        ControlOwner live = ControlOwner.fresh();
        ControlOwner next = ControlOwner.fresh();
        try (LedgerStore store = LedgerStore.open(dir.resolve("db.sqlite"))) {
            ControlStore a = new ControlStore(store, scope, first);
            a.record(LedgerStoreTest.row("req_a", null, 1), List.of(report("req_a", first, scope, "lease_a", 1)));
            store.append(new RowGroup(List.of(LedgerStoreTest.row("req_d", null, 1), report("req_d", dead, scope, "lease_d", 1))));
            store.append(new RowGroup(List.of(LedgerStoreTest.row("req_l", null, 1), report("req_l", live, scope, null, 1))));
            store.append(new RowGroup(List.of(LedgerStoreTest.row("req_o", null, 1), report("req_o", dead, other, null, 1))));
            assertTrue(store.flush(5_000));
            a.leaseGranted(new LeaseRow("lease_a", scope.key(), "openai", 100, LeaseRow.ACTIVE, 1, null, null));
            a.release(); // stopped without returning: its rows and lease are up for adoption

            ControlStore b = new ControlStore(store, scope, next);
            assertEquals(3, b.adoptLeftovers(), "the released row, its lease and the dead session's row");
            assertEquals(List.of("req_a", "req_d"), b.pending(OutboxRow.REPORT, 10).stream().map(OutboxItem::itemId).toList());
            assertEquals(List.of("lease_a"), b.activeLeases().stream().map(LeaseRow::leaseId).toList());
            assertEquals(1, new ControlStore(store, scope, live).countPending(OutboxRow.REPORT), "a live session keeps its rows");
            assertEquals(1, new ControlStore(store, other, dead).countPending(OutboxRow.REPORT), "another token's rows stay");
            b.leaseEnded("lease_a", LeaseRow.RETURNED, 2, 99L);
            assertEquals(List.of(), b.activeLeases());
        }
    }

    @Test
    void aReportChargedToAnotherLeaseMovesAndFinishedRowsArePruned() throws Exception {
        ControlScope scope = ControlScope.of("http://ic", "t");
        ControlOwner me = ControlOwner.fresh();
        try (LedgerStore store = LedgerStore.open(dir.resolve("db.sqlite"))) {
            ControlStore s = new ControlStore(store, scope, me);
            s.record(LedgerStoreTest.row("req_1", null, 5_000_000), List.of(report("req_1", me, scope, "lease_old", 5)));
            assertTrue(store.flush(5_000));
            OutboxItem item = s.pending(OutboxRow.REPORT, 1).get(0);
            s.attempted(item.id(), "lease_new");
            assertEquals(0, s.chargedMicros("lease_old"));
            assertEquals(5, s.chargedMicros("lease_new"));
            assertEquals(1, s.pending(OutboxRow.REPORT, 1).get(0).attempts());
            s.finish(List.of(item.id()), "acked", 1_000);
            s.prune(500);
            assertEquals(5, s.chargedMicros("lease_new"), "not yet old enough");
            s.prune(2_000);
            assertEquals(0, s.chargedMicros("lease_new"));
        }
    }

    @Test
    void aVersionFiveDatabaseGainsTheControlTablesAndKeepsItsRows() throws Exception {
        Path file = dir.resolve("v5.db");
        try (LedgerStore store = LedgerStore.open(file)) {
            store.append(LedgerStoreTest.row("old-1", null, 1_000));
            assertTrue(store.flush(5_000));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.executeUpdate("DROP TABLE control_outbox");
            s.executeUpdate("DROP TABLE control_leases");
            s.executeUpdate("DELETE FROM schema_version WHERE version = 6");
        }
        ControlScope scope = ControlScope.of("http://ic", "t");
        ControlOwner me = ControlOwner.fresh();
        try (LedgerStore store = LedgerStore.open(file)) {
            ControlStore s = new ControlStore(store, scope, me);
            s.record(LedgerStoreTest.row("new-1", null, 2_000_000), List.of(report("new-1", me, scope, null, 2)));
            assertTrue(store.flush(5_000));
            assertEquals(1, s.countPending(OutboxRow.REPORT));
            assertEquals(2, store.newestRequests(10, null).size());
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY version)")) {
            assertTrue(r.next());
            assertEquals("1,2,3,4,5,6", r.getString(1));
        }
    }

    @Test
    void memoryStateBehavesLikeTheDatabaseForOneSession() {
        ControlScope scope = ControlScope.of("http://ic", "t");
        ControlOwner me = ControlOwner.fresh();
        MemoryControlState m = new MemoryControlState();
        m.record(LedgerStoreTest.row("req_1", null, 1), List.of(report("req_1", me, scope, "lease_a", 3),
                new OutboxRow(OutboxRow.ANALYTICS, "evt", scope.key(), me, null, 0, "{}", 1)));
        m.leaseGranted(new LeaseRow("lease_a", scope.key(), "openai", 100, LeaseRow.ACTIVE, 1, null, null));
        assertEquals(1, m.countPending(OutboxRow.REPORT));
        assertEquals(1, m.countPending(OutboxRow.ANALYTICS));
        OutboxItem r = m.pending(OutboxRow.REPORT, 5).get(0);
        m.finish(List.of(r.id()), "acked", 1);
        assertEquals(0, m.countPending(OutboxRow.REPORT));
        assertEquals(3, m.chargedMicros("lease_a"));
        m.leaseEnded("lease_a", LeaseRow.RETURNED, 2, 97L);
        assertEquals(List.of(), m.activeLeases());
    }
}
