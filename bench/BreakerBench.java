/*
 * iron-runtime circuit breaker microbenchmark (issue 5: the check on the hot path costs at most
 * 100 ns).
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/BreakerBench.java [--quick]
 *
 * Measures, per request: CircuitBreaker.acquire() on a closed circuit (the check every request
 * makes before it goes upstream), and acquire() plus record(SUCCESS) (check and outcome, the whole
 * per-request cost while closed), on one thread and with two threads sharing one breaker. Also the
 * refusal of an open circuit, for scale.
 *
 * Figures are medians over batches (each batch 1,000,000 calls), after a warm-up; JMH-free: one
 * class, one JVM, nothing else running in it.
 */

import io.ironruntime.resilience.CircuitBreaker;
import io.ironruntime.resilience.CircuitSettings;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;

public final class BreakerBench {
    static final int BATCH = 1_000_000;
    static volatile long sink;

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        int batches = quick ? 15 : 60;
        CircuitBreaker closed = new CircuitBreaker(CircuitSettings.DEFAULTS, System::nanoTime, CircuitBreaker.Listener.NONE);
        CircuitBreaker open = new CircuitBreaker(CircuitSettings.DEFAULTS, System::nanoTime, CircuitBreaker.Listener.NONE);
        for (int i = 0; i < 5; i++) {
            open.record(open.acquire(), CircuitBreaker.Outcome.FAILURE);
        }
        Runnable check = () -> {
            long s = 0;
            for (int i = 0; i < BATCH; i++) {
                s += closed.acquire();
            }
            sink += s;
        };
        Runnable cycle = () -> {
            for (int i = 0; i < BATCH; i++) {
                closed.record(closed.acquire(), CircuitBreaker.Outcome.SUCCESS);
            }
        };
        Runnable refused = () -> {
            long s = 0;
            for (int i = 0; i < BATCH; i++) {
                s += open.acquire();
            }
            sink += s;
        };
        for (int w = 0; w < (quick ? 3 : 10); w++) { // warm-up
            check.run();
            cycle.run();
            refused.run();
        }
        System.out.printf(Locale.ROOT, "circuit breaker, %d batches of %,d calls, ns per call (median, min-max):%n", batches, BATCH);
        double[] c = time(check, batches);
        report("acquire(), closed (the hot-path check)", c, 100);
        report("acquire() + record(SUCCESS), closed", time(cycle, batches), Double.NaN);
        report("acquire(), open (refused with Retry-After)", time(refused, batches), Double.NaN);
        report("acquire() + record(SUCCESS), 2 threads, one breaker", contended(cycle, batches), Double.NaN);
    }

    static double[] time(Runnable r, int batches) {
        double[] ns = new double[batches];
        for (int b = 0; b < batches; b++) {
            long t0 = System.nanoTime();
            r.run();
            ns[b] = (System.nanoTime() - t0) / (double) BATCH;
        }
        Arrays.sort(ns);
        return ns;
    }

    static double[] contended(Runnable r, int batches) throws Exception {
        double[] ns = new double[batches];
        for (int b = 0; b < batches; b++) {
            CyclicBarrier start = new CyclicBarrier(2);
            Thread other = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    return;
                }
                r.run();
            });
            other.start();
            start.await();
            long t0 = System.nanoTime();
            r.run();
            other.join();
            ns[b] = (System.nanoTime() - t0) / (double) BATCH;
        }
        Arrays.sort(ns);
        return ns;
    }

    static void report(String what, double[] ns, double targetNs) {
        double median = ns[ns.length / 2];
        String verdict = Double.isNaN(targetNs) ? "" : String.format(Locale.ROOT, "  target <= %.0f ns: %s",
                targetNs, median <= targetNs ? "ok" : "MISS");
        System.out.printf(Locale.ROOT, "  %-52s %7.1f  (%.1f-%.1f)%s%n", what, median, ns[0], ns[ns.length - 1], verdict);
    }
}
