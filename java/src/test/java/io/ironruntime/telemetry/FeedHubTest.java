package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventBus;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The hub over a real {@link EventBus}: rounds run by hand where order matters, by the feed thread
 * where threads and heartbeats matter. The clients are transport ends that keep what they are sent
 * and, like a socket whose reader stopped, refuse more once "full".
 */
class FeedHubTest {
    private final EventBus bus = new EventBus();
    private final AtomicInteger snapshots = new AtomicInteger();
    private FeedHub hub;

    @AfterEach
    void stop() {
        if (hub != null) {
            hub.stop();
        }
    }

    private FeedHub hub(long heartbeatMillis, int capacity) {
        hub = new FeedHub(bus, () -> {
            ObjectNode m = Json.MAPPER.createObjectNode();
            m.put("snapshot", snapshots.incrementAndGet());
            m.put("budget_spent", 0.5);
            return m;
        }, () -> true, id -> null, heartbeatMillis, capacity);
        return hub;
    }

    /** A transport end that takes {@code room} messages, then refuses (a reader that stopped reading). */
    static final class Client implements FeedClient {
        final List<FeedMessage> got = new CopyOnWriteArrayList<>();
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        final int room;
        volatile Close closed;

        Client(int room) {
            this.room = room;
        }

        @Override
        public boolean send(FeedMessage m) {
            threads.add(Thread.currentThread().getName());
            if (got.size() >= room) {
                return false;
            }
            got.add(m);
            return true;
        }

        @Override
        public void close(Close why) {
            closed = why;
        }

        List<String> types() {
            return got.stream().map(FeedMessage::type).toList();
        }
    }

    private static EngineEvent completed(int i) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("model", "gpt-4o-mini");
        p.put("input_tokens", 10);
        p.put("output_tokens", i);
        p.put("cost", 0.001);
        return EngineEvent.of(EngineEvent.REQUEST_COMPLETED, null, "req-" + i, p);
    }

    private static EngineEvent pii(int i) {
        return EngineEvent.of(EngineEvent.PII_DETECTED, null, "req-" + i, Json.MAPPER.createObjectNode());
    }

    /** Polls {@code condition} until true; fails after 30 s (generous: the test machine is shared and noisy). */
    static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void aSubscriberHearsTheStateFirstThenEveryEventInOrderWithOneSnapshotPerRound() throws Exception {
        hub(60_000, 100);
        Client c = new Client(1_000);
        hub.subscribe("feed-test", FeedFilter.ALL, c);
        bus.publish(pii(1));
        bus.publish(completed(2));
        bus.publish(completed(3));
        hub.dispatch();
        assertEquals(List.of("STATE_UPDATE", "pii_detected", "request_completed", "AGENT_EVENT", "request_completed",
                "AGENT_EVENT", "STATE_UPDATE"), c.types());
        JsonNode first = Json.MAPPER.readTree(c.got.get(0).json());
        JsonNode last = Json.MAPPER.readTree(c.got.get(6).json());
        assertEquals(1, first.get("data").get("snapshot").asInt());
        assertEquals(0.5, last.get("data").get("budget_spent").asDouble());
        hub.dispatch();
        assertEquals(7, c.got.size(), "nothing new, nothing sent");
        bus.publish(pii(4));
        hub.dispatch();
        assertEquals("pii_detected", c.types().get(7));
        assertEquals(8, c.got.size(), "a detection does not change the router's state");
        assertEquals(8, hub.sent());
        assertEquals(1, hub.subscribers());
    }

    @Test
    void aSlowSubscriberIsDroppedAndCountedWhileAFastOneReceivesEverything() throws Exception {
        hub(60_000, 10_000);
        Client fast = new Client(Integer.MAX_VALUE);
        Client slow = new Client(5);
        hub.subscribe("feed-fast", FeedFilter.ALL, fast);
        hub.subscribe("feed-slow", FeedFilter.ALL, slow);
        for (int i = 0; i < 500; i++) {
            bus.publish(completed(i));
            if (i % 100 == 99) {
                hub.dispatch();
            }
        }
        assertEquals(FeedClient.Close.TOO_SLOW, slow.closed);
        assertEquals(5, slow.got.size());
        assertEquals(1, hub.dropped());
        assertEquals(1, hub.subscribers());
        assertFalse(bus.droppedByConsumer().containsKey("feed-slow"), "its queue left the bus");
        assertNull(fast.closed);
        List<String> requests = new ArrayList<>();
        for (FeedMessage m : fast.got) {
            if (m.type().equals("request_completed")) {
                requests.add(Json.MAPPER.readTree(m.json()).get("request_id").asText());
            }
        }
        assertEquals(500, requests.size());
        for (int i = 0; i < 500; i++) {
            assertEquals("req-" + i, requests.get(i), "every event, in order");
        }
        assertEquals(1 + 500 * 2 + 5, fast.got.size(), "greeting, event + AGENT_EVENT each, one snapshot per round");
        bus.publish(completed(500));
        hub.dispatch();
        assertEquals(5, slow.got.size(), "a dropped subscriber hears nothing more");
    }

    @Test
    void aSubscriberWhoseBufferOverflowedIsDroppedAsOverflow() {
        hub(60_000, 8);
        Client c = new Client(Integer.MAX_VALUE);
        hub.subscribe("feed-test", FeedFilter.ALL, c);
        for (int i = 0; i < 20; i++) {
            bus.publish(pii(i));
        }
        hub.dispatch();
        assertEquals(FeedClient.Close.OVERFLOW, c.closed, "it missed events: it must reconnect and resync");
        assertEquals(1, hub.dropped());
        assertEquals(0, hub.subscribers());
        assertEquals(12, bus.dropped(), "its lost events stay counted on the bus");
    }

    @Test
    void aClientThatLeavesIsNotCountedAsDropped() {
        hub(60_000, 100);
        Client c = new Client(100);
        FeedHub.Subscription s = hub.subscribe("feed-test", FeedFilter.ALL, c);
        hub.dispatch();
        s.close();
        s.close();
        bus.publish(pii(1));
        hub.dispatch();
        assertEquals(List.of("STATE_UPDATE"), c.types());
        assertEquals(0, hub.dropped());
        assertEquals(0, hub.subscribers());
        assertNull(c.closed, "the hub does not close what the client closed");
    }

    @Test
    void aFilteredSubscriberHearsOnlyItsTypes() {
        hub(60_000, 100);
        Client c = new Client(100);
        hub.subscribe("feed-test", FeedFilter.parse("AGENT_EVENT,pii_detected"), c);
        bus.publish(completed(1));
        bus.publish(pii(2));
        hub.dispatch();
        assertEquals(List.of("AGENT_EVENT", "pii_detected"), c.types(), "no greeting, no snapshot: not asked for");
        hub.heartbeat();
        assertEquals("HEARTBEAT", c.types().get(2), "heartbeats always");
    }

    @Test
    void theFeedThreadRunsOnlyWhileSomeoneListens() throws Exception {
        hub(60_000, 100).start();
        assertTrue(hub.idle(), "no subscriber: no rounds");
        Client c = new Client(100);
        FeedHub.Subscription s = hub.subscribe("feed-test", FeedFilter.ALL, c);
        assertFalse(hub.idle());
        waitFor(() -> !c.got.isEmpty(), "the greeting");
        s.close();
        waitFor(hub::idle, "the rounds to pause");
        Client next = new Client(100);
        hub.subscribe("feed-test", FeedFilter.ALL, next);
        bus.publish(pii(1));
        waitFor(() -> next.types().contains("pii_detected"), "rounds again for a new subscriber");
    }

    @Test
    void theFeedThreadDeliversHeartbeatsAndStoppingFlushesThenCloses() throws Exception {
        hub(50, 100).start();
        Client c = new Client(Integer.MAX_VALUE);
        hub.subscribe("feed-test", FeedFilter.ALL, c);
        waitFor(() -> c.types().stream().filter("HEARTBEAT"::equals).count() >= 3, "three heartbeats");
        assertEquals("STATE_UPDATE", c.types().get(0));
        JsonNode beat = Json.MAPPER.readTree(c.got.get(c.got.size() - 1).json());
        assertTrue(beat.get("timestamp_ms").asLong() > 0 && beat.get("timestamp").asText().endsWith("Z"));
        bus.publish(pii(1));
        hub.stop();
        assertTrue(c.types().contains("pii_detected"), "what was queued went out before the end");
        assertEquals(FeedClient.Close.STOPPING, c.closed);
        assertEquals(Set.of("iron-runtime-feed"), c.threads, "only the feed thread sends");
        assertEquals(0, hub.dropped());
        assertEquals(0, hub.subscribers());
        hub.start();
        Client again = new Client(100);
        hub.subscribe("feed-test", FeedFilter.ALL, again);
        waitFor(() -> !again.got.isEmpty(), "a restarted hub to greet");
    }
}
