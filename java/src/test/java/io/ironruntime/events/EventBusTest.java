package io.ironruntime.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventBusTest {
    private static EngineEvent event(int i) {
        return EngineEvent.of("request_completed", null, "req-" + i, Json.MAPPER.createObjectNode().put("i", i));
    }

    @Test
    void aFullConsumerDropsAndCountsWithoutTouchingTheOthers() throws Exception {
        EventBus bus = new EventBus();
        EventQueue slow = bus.subscribe("slow", 16);   // never drained: a stuck consumer
        EventQueue fast = bus.subscribe("fast", 1_000);
        for (int i = 0; i < 100; i++) {
            bus.publish(event(i));
        }
        assertEquals(100, bus.published());
        assertEquals(16, slow.capacity());
        assertEquals(84, slow.dropped());
        assertEquals(16, slow.accepted());
        assertEquals(0, fast.dropped());
        assertEquals(84, bus.dropped());
        assertEquals(Map.of("slow", 84L, "fast", 0L), bus.droppedByConsumer());
        List<EngineEvent> got = fast.poll(1_000, 0);
        assertEquals(100, got.size());
        for (int i = 0; i < 100; i++) {
            assertEquals("req-" + i, got.get(i).requestId(), "published order is kept");
        }
        List<EngineEvent> kept = slow.poll(1_000, 0);
        assertEquals(java.util.stream.IntStream.range(0, 16).mapToObj(i -> "req-" + i).toList(),
                kept.stream().map(EngineEvent::requestId).toList(), "the oldest are kept, the newest dropped");
        bus.unsubscribe(slow);
        assertEquals(84, bus.dropped(), "a consumer's drops still count after it is gone");
        bus.publish(event(100));
        assertEquals(0, slow.size(), "an unsubscribed consumer receives nothing more");
    }

    @Test
    void aSlowConsumerDoesNotSlowThePublisherOrAFastConsumer() throws Exception {
        EventBus bus = new EventBus();
        EventQueue slow = bus.subscribe("slow", 64);
        EventQueue fast = bus.subscribe("fast", 200_000);
        Thread slowReader = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    slow.poll(1, 50);
                    Thread.sleep(5); // a consumer far slower than the publisher
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        slowReader.setDaemon(true);
        slowReader.start();
        List<EngineEvent> fastGot = new ArrayList<>();
        Thread fastReader = new Thread(() -> {
            try {
                while (fastGot.size() < 100_000) {
                    fastGot.addAll(fast.poll(10_000, 100));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        fastReader.start();
        long t0 = System.nanoTime();
        for (int i = 0; i < 100_000; i++) {
            bus.publish(event(i));
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        fastReader.join(60_000);
        slowReader.interrupt();
        // Generous on a noisy 2-core box; a publisher waiting on the slow reader (5 ms each) would take minutes.
        assertTrue(elapsedMs < 20_000, "publishing 100k events took " + elapsedMs + " ms");
        assertEquals(100_000, fastGot.size());
        assertEquals(0, fast.dropped());
        assertTrue(slow.dropped() > 90_000, "the slow consumer dropped (and counted) " + slow.dropped());
        for (int i = 0; i < fastGot.size(); i++) {
            assertEquals("req-" + i, fastGot.get(i).requestId());
        }
    }

    @Test
    void pollWaitsForAFirstEventUntilItsDeadline() throws Exception {
        EventQueue q = new EventQueue("q", 4);
        long t0 = System.nanoTime();
        assertTrue(q.poll(10, 50).isEmpty());
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(45));
        Thread later = new Thread(() -> {
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                return;
            }
            q.offer(event(1));
        });
        later.start();
        assertEquals(1, q.poll(10, 30_000).size());
    }

    @Test
    void recentEventsKeepTheNewestAndAnswerQueries() {
        RecentEvents recent = new RecentEvents();
        List<EngineEvent> all = new ArrayList<>();
        for (int i = 0; i < RecentEvents.CAPACITY + 10; i++) {
            EngineEvent e = EngineEvent.at(1_000 + i, i % 2 == 0 ? "request_completed" : "pii_detected", null, null,
                    Json.MAPPER.createObjectNode());
            all.add(e);
            recent.publish(e);
        }
        List<EngineEvent> newest = recent.query(new EventQuery(null, null, null, 3));
        assertEquals(all.subList(all.size() - 3, all.size()), newest);
        List<EngineEvent> pii = recent.query(new EventQuery(null, null, java.util.Set.of("pii_detected"), 2));
        assertEquals(List.of(all.get(all.size() - 3), all.get(all.size() - 1)), pii);
        assertEquals(all.subList(all.size() - 2, all.size()),
                recent.query(new EventQuery(null, all.get(all.size() - 3).eventId(), null, 100)));
        assertEquals(1, recent.query(new EventQuery(1_000L + all.size() - 1, null, null, 100)).size());
        assertEquals(RecentEvents.CAPACITY, recent.query(new EventQuery(null, null, null, 100_000)).size(),
                "the oldest ten were overwritten");
    }
}
