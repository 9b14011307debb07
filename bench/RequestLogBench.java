/*
 * iron-runtime request log microbenchmark (issue 7: verbose=True logs one JSON line per request; the
 * logging must stay off the I/O threads or be cheap enough).
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/RequestLogBench.java [--quick]
 *
 * Measures, with the engine's own logging set up (SLF4J bound to java.util.logging, EngineLogging's
 * handler) and stderr replaced by a stream that only counts lines (the terminal's speed is not ours):
 *   (a) what an exchange pays when it ends: RequestLog.add of a settled request's row (a bounded queue
 *       offer), while the log's thread drains the queue at the same time;
 *   (b) what the log's own thread pays per line: the JSON line, SLF4J's JUL adapter (it looks up the
 *       caller's frame for every record) and the handler, measured as lines written per second.
 * Figures are medians over batches (each 50,000 rows), after a warm-up; one class, one JVM.
 */

import io.ironruntime.router.RequestLog;
import io.ironruntime.state.LedgerRow;
import io.ironruntime.telemetry.EngineLogging;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

public final class RequestLogBench {
    static final int BATCH = 50_000;

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        int batches = quick ? 8 : 30;
        EngineLogging.level(); // the engine's logging set up, as a router does
        AtomicLong lines = new AtomicLong();
        PrintStream realErr = System.err;
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                if (b == '\n') {
                    lines.incrementAndGet();
                }
            }

            @Override
            public void write(byte[] b, int off, int len) {
                for (int i = off; i < off + len; i++) {
                    if (b[i] == '\n') {
                        lines.incrementAndGet();
                    }
                }
            }
        }, false));
        LedgerRow row = new LedgerRow(System.currentTimeMillis(), "req_3f9a1c2e_00000000000000a1", null, "agent_3",
                "openai", "gpt-4o-mini", 812, 128, 0, 96, 210_000_000L, true, false, 200, "completed", 742, 1,
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 1, true);

        double[] addNs = new double[batches];
        double[] lineUs = new double[batches];
        try (RequestLog log = new RequestLog(BATCH * 2)) {
            for (int b = -3; b < batches; b++) { // three warm-up batches
                long before = lines.get();
                long t0 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    log.add(row);
                }
                long t1 = System.nanoTime();
                while (lines.get() - before < BATCH) {
                    Thread.onSpinWait();
                }
                long t2 = System.nanoTime();
                if (b >= 0) {
                    addNs[b] = (t1 - t0) / (double) BATCH;
                    lineUs[b] = (t2 - t0) / 1_000.0 / BATCH;
                }
            }
            if (log.dropped() != 0) {
                realErr.println("rows were dropped: " + log.dropped());
                System.exit(2);
            }
        }
        System.setErr(realErr);
        System.out.printf(Locale.ROOT, "request log, exchange side (RequestLog.add while the log drains): %.0f ns/request%n",
                median(addNs));
        System.out.printf(Locale.ROOT, "request log, log thread (JSON line + SLF4J/JUL + handler):       %.1f us/line"
                + " (%.0f lines/s)%n", median(lineUs), 1e6 / median(lineUs));
        System.out.println("line: " + RequestLog.line(row).length() + " bytes");
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
