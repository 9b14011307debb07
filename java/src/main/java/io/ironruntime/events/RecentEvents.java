package io.ironruntime.events;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The last {@link #CAPACITY} events in memory, for {@code router.events()} without a database. A ring
 * the publisher writes with one atomic increment: the oldest are overwritten, which is retention, not
 * loss. A reader racing a wrap may miss an event being overwritten; it never sees one twice.
 */
public final class RecentEvents implements EventSink {
    public static final int CAPACITY = 1 << 14;
    private static final int MASK = CAPACITY - 1;

    private record Slot(long seq, EngineEvent event) {
    }

    private final AtomicLong next = new AtomicLong();
    private final AtomicReferenceArray<Slot> slots = new AtomicReferenceArray<>(CAPACITY);

    @Override
    public void publish(EngineEvent event) {
        long seq = next.getAndIncrement();
        slots.set((int) (seq & MASK), new Slot(seq, event));
    }

    /** The newest {@code q.limit()} matching events, oldest first. */
    public List<EngineEvent> query(EventQuery q) {
        long end = next.get();
        long start = Math.max(0, end - CAPACITY);
        List<EngineEvent> all = new ArrayList<>();
        for (long s = start; s < end; s++) {
            Slot slot = slots.get((int) (s & MASK));
            if (slot != null && slot.seq() == s) {
                all.add(slot.event());
            }
        }
        if (q.afterEventId() != null) {
            for (int i = all.size() - 1; i >= 0; i--) {
                if (all.get(i).eventId().equals(q.afterEventId())) {
                    all = all.subList(i + 1, all.size());
                    break;
                }
            }
        }
        ArrayDeque<EngineEvent> newest = new ArrayDeque<>();
        for (int i = all.size() - 1; i >= 0 && newest.size() < q.limit(); i--) {
            if (q.matches(all.get(i))) {
                newest.addFirst(all.get(i));
            }
        }
        return Collections.unmodifiableList(new ArrayList<>(newest));
    }
}
