/*
 * iron-runtime circuit breaker microbenchmark (issue 5: the check on the hot path costs at most
 * 100 ns).
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/BreakerBench.java [--quick]
 *
 * Measures, per request: the circuit check every request makes before it goes upstream (finding the
 * upstream's breaker by provider and origin, then CircuitBreaker.acquire() on a closed circuit), and
 * acquire() plus record(SUCCESS) (check and outcome, the whole per-request cost while closed), on one
 * thread and with two threads sharing one breaker. Also the refusal of an open circuit, and the other
 * per-request costs of issue 5 for scale: the rate limiter (rpm and tpm buckets, take and correct) and
 * the in-flight gate (enter and leave).
 *
 * Figures are medians over batches (each batch 1,000,000 calls), after a warm-up; JMH-free: one
 * class, one JVM, nothing else running in it.
 */

import io.ironruntime.events.EventQueue;
import io.ironruntime.provider.Provider;
import io.ironruntime.resilience.CircuitBreaker;
import io.ironruntime.resilience.CircuitSettings;
import io.ironruntime.resilience.InFlightGate;
import io.ironruntime.resilience.RateLimiter;
import io.ironruntime.resilience.RateLimits;
import io.ironruntime.router.Circuits;
import java.net.URI;
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
        Circuits circuits = new Circuits(CircuitSettings.DEFAULTS, new EventQueue(16));
        URI origin = URI.create("https://api.openai.com"); // the config's one origin object, as on the request path
        Runnable lookupCheck = () -> {
            long s = 0;
            for (int i = 0; i < BATCH; i++) {
                s += circuits.of(Provider.OPENAI, origin).acquire();
            }
            sink += s;
        };
        Runnable check = () -> {
            long s = 0;
            for (int i = 0; i < BATCH; i++) {
                s += closed.acquire();
            }
            sink += s;
        };
        RateLimiter limiter = new RateLimiter(new RateLimits(1_000_000_000L, 10_000_000_000L));
        Runnable rate = () -> {
            long s = 0;
            for (int i = 0; i < BATCH; i++) {
                RateLimiter.Decision d = limiter.tryAcquire(1_000);
                limiter.correct(d.tokens(), 700);
                s += d.tokens();
            }
            sink += s;
        };
        // The watchdog every request arms: one deadline scheduled on the timer thread and cancelled when
        // the call ends, with 1,000 other calls' deadlines pending (the router's setup).
        java.util.concurrent.ScheduledThreadPoolExecutor timers = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
        for (int i = 0; i < 1_000; i++) {
            timers.schedule(() -> { }, 1, java.util.concurrent.TimeUnit.HOURS);
        }
        Runnable deadline = () -> {
            for (int i = 0; i < BATCH / 10; i++) {
                timers.schedule(() -> { }, 120, java.util.concurrent.TimeUnit.SECONDS).cancel(false);
            }
        };
        InFlightGate gate = new InFlightGate(1024, Runnable::run);
        Runnable gated = () -> {
            for (int i = 0; i < BATCH; i++) {
                if (gate.enterOrQueue(() -> { }) == null) {
                    gate.leave();
                }
            }
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
            lookupCheck.run();
            cycle.run();
            refused.run();
            rate.run();
            gated.run();
            deadline.run();
        }
        System.out.printf(Locale.ROOT, "circuit breaker, %d batches of %,d calls, ns per call (median, min-max):%n", batches, BATCH);
        report("find the upstream's breaker + acquire() (hot-path check)", time(lookupCheck, batches), 100);
        report("acquire(), closed", time(check, batches), Double.NaN);
        report("acquire() + record(SUCCESS), closed", time(cycle, batches), Double.NaN);
        report("acquire(), open (refused with Retry-After)", time(refused, batches), Double.NaN);
        report("acquire() + record(SUCCESS), 2 threads, one breaker", contended(cycle, batches), Double.NaN);
        report("rate limiter: rpm + tpm take, then correct", time(rate, batches), Double.NaN);
        report("in-flight gate: enter + leave", time(gated, batches), Double.NaN);
        double[] d = time(deadline, batches);
        for (int i = 0; i < d.length; i++) {
            d[i] *= 10; // BATCH / 10 calls per batch
        }
        report("watchdog deadline: schedule + cancel", d, Double.NaN);
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
        System.out.printf(Locale.ROOT, "  %-58s %7.1f  (%.1f-%.1f)%s%n", what, median, ns[0], ns[ns.length - 1], verdict);
    }
}
