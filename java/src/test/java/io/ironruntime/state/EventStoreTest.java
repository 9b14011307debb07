package io.ironruntime.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventBus;
import io.ironruntime.events.EventQuery;
import io.ironruntime.events.EventQueue;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

class EventStoreTest {
    private static final long NOW = 1_750_000_000_000L;
    @TempDir
    Path dir;

    private static EngineEvent at(long ts, String type, String requestId) {
        return EngineEvent.at(ts, type, "agent_1", requestId, Json.MAPPER.createObjectNode().put("status", 200));
    }

    @Test
    void aVersionThreeDatabaseGainsTheEventsTable() throws Exception {
        Path db = dir.resolve("v3.db");
        LedgerStore.open(db).close();
        // What schema 3 left: everything but the events table and the version rows from 4 on.
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.executeUpdate("DROP TABLE events");
            s.executeUpdate("DELETE FROM schema_version WHERE version >= 4");
        }
        EventBus bus = new EventBus();
        try (LedgerStore store = LedgerStore.open(db)) {
            store.recordEvents(bus.subscribe("store", 100), 30, System.currentTimeMillis());
            bus.publish(EngineEvent.of("router_started", null, null, Json.MAPPER.createObjectNode().put("port", 1)));
            assertTrue(store.flush(10_000));
        }
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
                assertEquals(LedgerStore.SCHEMA_VERSION, r.getInt(1));
            }
            try (ResultSet r = s.executeQuery("SELECT type, payload_json, agent_id FROM events")) {
                assertTrue(r.next());
                assertEquals("router_started|{\"port\":1}|null", r.getString(1) + "|" + r.getString(2) + "|"
                        + r.getString(3));
            }
            try (ResultSet r = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
                    + " AND name LIKE 'events_%' ORDER BY name")) {
                assertTrue(r.next());
                assertEquals("events_ts", r.getString(1));
                assertTrue(r.next());
                assertEquals("events_type", r.getString(1));
            }
        }
    }

    @Test
    void eventsOlderThanTheRetentionArePrunedAtStart() throws Exception {
        Path db = dir.resolve("old.db");
        EventBus bus = new EventBus();
        long day = TimeUnit.DAYS.toMillis(1);
        try (LedgerStore store = LedgerStore.open(db)) {
            store.recordEvents(bus.subscribe("store", 100), 3_650, NOW);
            bus.publish(at(NOW - 40 * day, "request_completed", "old"));
            bus.publish(at(NOW - 29 * day, "request_failed", "recent"));
            bus.publish(at(NOW - day, "request_completed", "new"));
            assertTrue(store.flush(10_000));
            assertEquals(3, store.events(new EventQuery(null, null, null, 100)).size());
        }
        try (LedgerStore store = LedgerStore.open(db)) {
            store.recordEvents(new EventBus().subscribe("store", 100), 30, NOW); // the clock of this start: NOW
            List<EngineEvent> left = store.events(new EventQuery(null, null, null, 100));
            assertEquals(List.of("recent", "new"), left.stream().map(EngineEvent::requestId).toList());
        }
    }

    @Test
    void queriesFilterByTimeTypeAndIdAndReturnTheNewestOldestFirst() throws Exception {
        EventBus bus = new EventBus();
        try (LedgerStore store = LedgerStore.open(dir.resolve("q.db"))) {
            EventQueue buffer = bus.subscribe("store", 100);
            store.recordEvents(buffer, 30, NOW);
            for (int i = 0; i < 10; i++) {
                bus.publish(at(NOW + i, i % 3 == 0 ? "request_failed" : "request_completed", "r" + i));
            }
            assertTrue(store.flush(10_000));
            assertEquals(List.of("r7", "r8", "r9"), ids(store, new EventQuery(null, null, null, 3)));
            assertEquals(List.of("r0", "r3", "r6", "r9"),
                    ids(store, new EventQuery(null, null, Set.of("request_failed"), 100)));
            assertEquals(List.of("r8", "r9"), ids(store, new EventQuery(NOW + 8, null, null, 100)));
            String fifth = store.events(new EventQuery(null, null, null, 100)).get(4).eventId(); // r4
            assertEquals(List.of("r5", "r6", "r7", "r8", "r9"), ids(store, new EventQuery(null, fifth, null, 100)));
            EngineEvent back = store.events(new EventQuery(null, null, null, 1)).get(0);
            assertEquals("agent_1", back.agentId());
            assertEquals(200, back.payload().get("status").asInt());
            assertEquals(0, buffer.dropped());
        }
    }

    private static List<String> ids(LedgerStore store, EventQuery q) throws Exception {
        return store.events(q).stream().map(EngineEvent::requestId).toList();
    }
}
