package io.ironruntime.events;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A bounded hand-off from the request path to a consumer thread (Python's delivery thread). Offering
 * never blocks; when the queue is full the event is dropped and counted, never silently lost.
 */
public final class EventQueue {
    private final BlockingQueue<EngineEvent> queue;
    private final LongAdder dropped = new LongAdder();

    public EventQueue(int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
    }

    public void offer(EngineEvent event) {
        if (!queue.offer(event)) {
            dropped.increment();
        }
    }

    /** Waits up to {@code timeoutMillis} for a first event, then takes up to {@code max} without waiting. */
    public List<EngineEvent> poll(int max, long timeoutMillis) throws InterruptedException {
        List<EngineEvent> batch = new ArrayList<>();
        EngineEvent first = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        if (first != null) {
            batch.add(first);
            queue.drainTo(batch, max - 1);
        }
        return batch;
    }

    public long dropped() {
        return dropped.sum();
    }
}
