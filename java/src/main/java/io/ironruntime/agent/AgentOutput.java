package io.ironruntime.agent;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What one agent process writes to stdout and stderr. A daemon pump thread per stream reads
 * continuously, so the child never blocks on a full pipe however much it writes or however rarely
 * anyone looks. Kept: the newest bytes of both streams interleaved line by line in arrival order
 * (default 1 MiB), the newest stderr alone (64 KiB, for failure reports), and optionally everything
 * appended to a log file, flushed after every chunk read and closed when both streams end.
 *
 * <p>Lines are kept whole: a pump holds an unfinished line until its newline arrives, the stream
 * ends or it reaches {@value #MAX_HELD_LINE} bytes (then it is passed on as a fragment). So text
 * printed without a newline (a prompt, a progress bar using '\r') shows up late. Text is decoded as
 * UTF-8 with malformed bytes replaced.
 */
public final class AgentOutput {
    public static final int DEFAULT_CAPACITY = 1 << 20;
    public static final int DEFAULT_STDERR_CAPACITY = 64 << 10;
    static final int MAX_HELD_LINE = 8192;

    private final Object lock = new Object();
    private final ByteRing combined;
    private final ByteRing stderr;
    private final Path logFile;
    private final CountDownLatch streamsOpen = new CountDownLatch(2);
    private final AgentOutputListener listener;
    // Guarded by lock; null once closed or after a write failed.
    private OutputStream log;

    /** Opens (creates, appends to) the log file first, so a bad path fails the launch, not the agent. */
    AgentOutput(Path logFile, int capacity, int stderrCapacity, AgentOutputListener listener) throws IOException {
        this.listener = listener;
        this.combined = new ByteRing(capacity);
        this.stderr = new ByteRing(stderrCapacity);
        this.logFile = logFile;
        if (logFile != null) {
            Path parent = logFile.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            this.log = new BufferedOutputStream(Files.newOutputStream(logFile,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE), 64 << 10);
        }
    }

    /** The last {@code lines} lines of stdout and stderr together, in arrival order. */
    public String tail(int lines) {
        synchronized (lock) {
            return combined.tail(lines);
        }
    }

    /** The last {@code lines} lines of stderr alone. */
    public String stderrTail(int lines) {
        synchronized (lock) {
            return stderr.tail(lines);
        }
    }

    /** Bytes captured from both streams so far, including those the ring no longer holds. */
    public long bytesCaptured() {
        synchronized (lock) {
            return combined.total();
        }
    }

    /** The log file everything is appended to, or null. */
    public Path logFile() {
        return logFile;
    }

    /** Starts a daemon thread that drains {@code stream} until it ends. */
    void pump(InputStream stream, boolean isStderr, String threadName) {
        Thread t = new Thread(() -> drain(stream, isStderr), threadName);
        t.setDaemon(true);
        t.start();
    }

    /** Waits until both streams have ended (every byte captured and the log closed). */
    boolean awaitEnd(Duration timeout) throws InterruptedException {
        return streamsOpen.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Flushes the log; used when a stream outlives its process (a descendant in another group holds it). */
    void flush() {
        synchronized (lock) {
            if (log != null) {
                try {
                    log.flush();
                } catch (IOException e) {
                    logFailed(e);
                }
            }
        }
    }

    private void drain(InputStream stream, boolean isStderr) {
        byte[] chunk = new byte[8192];
        byte[] held = new byte[MAX_HELD_LINE];
        int heldLength = 0;
        try (stream) {
            int n;
            while ((n = stream.read(chunk)) > 0) {
                int lastBreak = lastIndexOf(chunk, n, (byte) '\n');
                int from = 0;
                if (lastBreak >= 0) {
                    append(isStderr, held, heldLength, chunk, lastBreak + 1);
                    heldLength = 0;
                    from = lastBreak + 1;
                }
                while (from < n) {
                    int take = Math.min(n - from, held.length - heldLength);
                    System.arraycopy(chunk, from, held, heldLength, take);
                    heldLength += take;
                    from += take;
                    if (heldLength == held.length) {
                        append(isStderr, held, heldLength, chunk, 0);
                        heldLength = 0;
                    }
                }
            }
        } catch (IOException e) {
            // The pipe was closed under us: what arrived is kept, the rest is lost with the process.
        } finally {
            append(isStderr, held, heldLength, chunk, 0);
            streamsOpen.countDown();
            if (streamsOpen.getCount() == 0) {
                closeLog();
            }
        }
    }

    /** Appends a held line start and whole lines from a chunk as one unit, so lines never interleave. */
    private void append(boolean isStderr, byte[] held, int heldLength, byte[] lines, int linesLength) {
        if (heldLength + linesLength == 0) {
            return;
        }
        synchronized (lock) {
            combined.write(held, 0, heldLength);
            combined.write(lines, 0, linesLength);
            if (isStderr) {
                stderr.write(held, 0, heldLength);
                stderr.write(lines, 0, linesLength);
            }
            if (log != null) {
                try {
                    log.write(held, 0, heldLength);
                    log.write(lines, 0, linesLength);
                    log.flush();
                } catch (IOException e) {
                    logFailed(e);
                }
            }
        }
        // Outside the lock: a listener may block (backpressure) without holding up the other stream.
        if (listener != null) {
            tell(isStderr ? AgentOutputListener.Stream.STDERR : AgentOutputListener.Stream.STDOUT,
                    held, heldLength, lines, linesLength);
        }
    }

    private void tell(AgentOutputListener.Stream stream, byte[] held, int heldLength, byte[] lines, int linesLength) {
        try {
            listener.output(stream, held, 0, heldLength);
            listener.output(stream, lines, 0, linesLength);
        } catch (RuntimeException e) {
            // The listener's problem: capture, the log and the agent go on.
        }
    }

    // Guarded by lock. The agent goes on; the failure is told where its output is read.
    private void logFailed(IOException e) {
        OutputStream broken = log;
        log = null;
        try {
            broken.close();
        } catch (IOException ignored) {
            // already failing
        }
        byte[] note = ("[iron-runtime] writing the agent log " + logFile + " failed, the log stops here: "
                + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
        combined.write(note, 0, note.length);
        stderr.write(note, 0, note.length);
    }

    void closeLog() {
        synchronized (lock) {
            if (log != null) {
                try {
                    log.close();
                } catch (IOException e) {
                    logFailed(e);
                }
                log = null;
            }
        }
    }

    private static int lastIndexOf(byte[] bytes, int length, byte b) {
        for (int i = length - 1; i >= 0; i--) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
