package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.state.LedgerRow;
import io.ironruntime.telemetry.EngineLogging;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request log of {@code verbose=True}: one JSON line per finished request on the SLF4J logger
 * {@value EngineLogging#REQUESTS} at INFO. The exchange only queues its row (a bounded queue whose
 * drops are counted); this log's own thread writes the lines, so a slow or blocked stderr never holds
 * an I/O thread. A line holds the request's ids, route, status, tokens, cost and timing, never a key,
 * a token, prompt text or a PII value.
 *
 * <p>Requests the router answered itself (refused: 401, 402, 429, ...) are logged too, with the error
 * code as {@code outcome}, no tokens and {@code attempts} 0.
 */
public final class RequestLog implements AutoCloseable {
    static final int CAPACITY = 4_096;
    private static final Logger LOG = LoggerFactory.getLogger(EngineLogging.REQUESTS);

    private final BlockingQueue<LedgerRow> queue;
    private final LongAdder dropped = new LongAdder();
    private final Thread writer;
    private volatile boolean closing;

    public RequestLog(int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.writer = new Thread(this::drain, "iron-request-log");
        writer.setDaemon(true);
        writer.start();
    }

    /** Queues the line of a finished request; never blocks. */
    public void add(LedgerRow row) {
        if (!queue.offer(row)) {
            dropped.increment();
        }
    }

    /** Lines not written because the queue was full. */
    public long dropped() {
        return dropped.sum();
    }

    private void drain() {
        while (!closing || !queue.isEmpty()) {
            try {
                LedgerRow row = queue.poll(100, TimeUnit.MILLISECONDS);
                if (row != null) {
                    LOG.info(line(row));
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                dropped.increment(); // a line that could not be written must not end the log
            }
        }
    }

    /** The JSON line of one request. */
    public static String line(LedgerRow row) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("timestamp_ms", row.timestampMs());
        o.put("request_id", row.requestId());
        o.put("agent_id", row.agentId());
        RequestFacts.write(row, o);
        return o.toString();
    }

    /** Writes what is queued (waiting up to two seconds), then ends the thread. */
    @Override
    public void close() {
        closing = true;
        try {
            writer.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
