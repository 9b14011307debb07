package io.ironruntime.agent;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An {@link AgentOutputListener} that hands the agent's output to one reader thread, which takes it
 * in batches ({@link #take}). Bounded: when the reader falls {@code capacity} bytes behind, the
 * agent's pumps wait for it (so nothing is dropped and the agent is slowed down as a terminal
 * would slow it). After {@link #close()} nothing waits and further output is discarded.
 */
public final class AgentOutputFeed implements AgentOutputListener {
    public static final int DEFAULT_CAPACITY = 1 << 20;

    /** Consecutive bytes of one stream. */
    public record Chunk(Stream stream, byte[] bytes) {
    }

    private final int capacity;
    private final Deque<Chunk> chunks = new ArrayDeque<>();
    private int pendingBytes;
    private boolean closed;

    public AgentOutputFeed() {
        this(DEFAULT_CAPACITY);
    }

    public AgentOutputFeed(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
    }

    @Override
    public synchronized void output(Stream stream, byte[] bytes, int offset, int length) {
        if (length == 0) {
            return;
        }
        // A chunk larger than the whole capacity still goes in once the feed is empty.
        while (!closed && pendingBytes > 0 && pendingBytes + length > capacity) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (closed) {
            return;
        }
        chunks.addLast(new Chunk(stream, Arrays.copyOfRange(bytes, offset, offset + length)));
        pendingBytes += length;
        notifyAll();
    }

    /**
     * What arrived since the last call, consecutive chunks of a stream merged, waiting up to
     * {@code wait} for the first byte; empty when nothing came (or the feed is closed and drained).
     */
    public synchronized List<Chunk> take(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (chunks.isEmpty() && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return List.of();
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        List<Chunk> out = new ArrayList<>();
        while (!chunks.isEmpty()) {
            Chunk next = chunks.removeFirst();
            Chunk last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.stream() == next.stream()) {
                byte[] merged = Arrays.copyOf(last.bytes(), last.bytes().length + next.bytes().length);
                System.arraycopy(next.bytes(), 0, merged, last.bytes().length, next.bytes().length);
                out.set(out.size() - 1, new Chunk(next.stream(), merged));
            } else {
                out.add(next);
            }
        }
        pendingBytes = 0;
        notifyAll();
        return out;
    }

    /** Stops waiting pumps and discards what comes later; what is pending can still be taken. */
    public synchronized void close() {
        closed = true;
        notifyAll();
    }
}
