package io.ironruntime.events;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's one publisher, fanned out to its consumers (Python delivery, the database, live
 * feeds), each with its own bounded {@link EventQueue}: a slow or dead consumer fills and drops from
 * its own buffer only, and the publisher never waits for anyone. Publishing costs one offer per consumer.
 */
public final class EventBus implements EventSink {
    private final CopyOnWriteArrayList<EventSink> sinks = new CopyOnWriteArrayList<>();
    private final LongAdder published = new LongAdder();
    /** Drops of consumers that unsubscribed, so the total never goes down. */
    private final LongAdder droppedByGone = new LongAdder();

    @Override
    public void publish(EngineEvent event) {
        published.increment();
        for (EventSink s : sinks) {
            s.publish(event);
        }
    }

    /** A new consumer, receiving the events published from now on. */
    public EventQueue subscribe(String name, int capacity) {
        EventQueue q = new EventQueue(name, capacity);
        sinks.add(q);
        return q;
    }

    /** A consumer that keeps what it is given without a thread of its own (an in-memory history). */
    public void attach(EventSink sink) {
        sinks.add(sink);
    }

    public void unsubscribe(EventQueue q) {
        if (sinks.remove(q)) {
            droppedByGone.add(q.dropped());
        }
    }

    public long published() {
        return published.sum();
    }

    /** Every event any consumer had to drop, including consumers gone since. */
    public long dropped() {
        long n = droppedByGone.sum();
        for (EventSink s : sinks) {
            if (s instanceof EventQueue q) {
                n += q.dropped();
            }
        }
        return n;
    }

    /** Drops per current consumer, by name (names may repeat: their counts add up). */
    public Map<String, Long> droppedByConsumer() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (EventSink s : sinks) {
            if (s instanceof EventQueue q) {
                m.merge(q.name(), q.dropped(), Long::sum);
            }
        }
        return m;
    }
}
