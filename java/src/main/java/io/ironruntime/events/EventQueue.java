package io.ironruntime.events;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.atomic.MpscAtomicArrayQueue;

/**
 * One consumer's bounded buffer: the publisher offers, the consumer's own thread drains. Offering never
 * blocks and never wakes the consumer (waking a parked thread is a system call, microseconds on the
 * I/O thread): the consumer polls every few milliseconds instead. When the buffer is full the event is
 * dropped and counted, never silently lost.
 *
 * <p>The buffer is a JCTools bounded multi-producer array queue (its atomic flavour: no
 * {@code sun.misc.Unsafe}, so no warnings on newer JDKs): an offer is one CAS and a store. Its
 * capacity is rounded up to a power of two.
 */
public final class EventQueue implements EventSink {
    /** How often a waiting consumer looks again: bounds the delivery delay, costs nothing measurable idle. */
    static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final String name;
    private final int capacity;
    private final MpscAtomicArrayQueue<EngineEvent> queue;
    /** Counted by the consumer's thread (drains), so offering pays for nothing but the queue. */
    private final LongAdder taken = new LongAdder();
    private final LongAdder dropped = new LongAdder();

    public EventQueue(int capacity) {
        this("events", capacity);
    }

    public EventQueue(String name, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.name = name;
        this.queue = new MpscAtomicArrayQueue<>(Math.max(2, capacity));
        this.capacity = queue.capacity();
    }

    @Override
    public void publish(EngineEvent event) {
        offer(event);
    }

    /** False (and counted) when the buffer is full. */
    public boolean offer(EngineEvent event) {
        if (queue.offer(event)) {
            return true;
        }
        dropped.increment();
        return false;
    }

    /** Takes up to {@code max} events without waiting, oldest first, into {@code into}; returns how many. */
    public int drainTo(List<EngineEvent> into, int max) {
        int n = 0;
        EngineEvent e;
        while (n < max && (e = queue.poll()) != null) {
            into.add(e);
            n++;
        }
        taken.add(n);
        return n;
    }

    /** Waits up to {@code timeoutMillis} for a first event, then takes up to {@code max} without waiting. */
    public List<EngineEvent> poll(int max, long timeoutMillis) throws InterruptedException {
        List<EngineEvent> batch = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (drainTo(batch, max) == 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            LockSupport.parkNanos(Math.min(left, RECHECK_NANOS));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        return batch;
    }

    /** The bound: the capacity asked for, rounded up to a power of two. */
    public int capacity() {
        return capacity;
    }

    public String name() {
        return name;
    }

    /** Events taken into the buffer so far (not dropped). */
    public long accepted() {
        return taken.sum() + queue.size();
    }

    public long dropped() {
        return dropped.sum();
    }

    /** Events in the buffer now. */
    public int size() {
        return queue.size();
    }
}
