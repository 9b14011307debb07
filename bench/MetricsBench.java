/*
 * iron-runtime Prometheus microbenchmark (issue 7: what /metrics costs a request).
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/MetricsBench.java [--quick]
 *
 * Every series of /metrics but two is read from the engine's counters at scrape time and costs a
 * request nothing. The two per-request costs are measured here as the router pays them:
 *   - observations: the three latency histograms each proxied request feeds (response head, upstream
 *     duration, router-added time; LatencyHistograms, the Prometheus library's classic histograms);
 *   - the requests-by-status count (TrafficTotals.request: a capped model label and a map entry).
 * On one thread and with two threads sharing them. Medians over batches of 1,000,000 requests after a
 * warm-up; JMH-free, one JVM. A scrape is timed too, for scale (its cost is the scraper's, not a request's).
 */

import io.ironruntime.provider.Provider;
import io.ironruntime.router.LatencyHistograms;
import io.ironruntime.router.TrafficTotals;
import io.ironruntime.shaded.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;

public final class MetricsBench {
    static final int BATCH = 1_000_000;

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        int batches = quick ? 15 : 60;
        PrometheusRegistry registry = new PrometheusRegistry();
        LatencyHistograms h = new LatencyHistograms(registry);
        TrafficTotals traffic = new TrafficTotals();
        Runnable observe = () -> {
            for (int i = 0; i < BATCH; i++) {
                long n = 1_000L + (i & 0xFFFFF) * 997L; // spread over the buckets
                h.responseHead(Provider.OPENAI, n * 300);
                h.upstreamDone(Provider.OPENAI, n * 900);
                h.routerAdded(Provider.OPENAI, n);
            }
        };
        Runnable count = () -> {
            for (int i = 0; i < BATCH; i++) {
                traffic.request(Provider.OPENAI, (i & 1) == 0 ? "gpt-4o-mini" : "gpt-4o", 200);
            }
        };
        report("3 histogram observations, 1 thread", perCall(observe, batches, 1));
        report("3 histogram observations, 2 threads", perCall(observe, batches, 2));
        report("requests-by-status count, 1 thread", perCall(count, batches, 1));
        report("requests-by-status count, 2 threads", perCall(count, batches, 2));
        long t0 = System.nanoTime();
        int scrapes = 200;
        for (int i = 0; i < scrapes; i++) {
            registry.scrape();
        }
        System.out.printf(Locale.ROOT, "%-42s %10.1f us (scraper's cost)%n", "scrape of the histograms",
                (System.nanoTime() - t0) / 1e3 / scrapes);
    }

    /** Median ns per request over batches, each thread running one batch at a time together. */
    static double perCall(Runnable batch, int batches, int threads) throws Exception {
        for (int i = 0; i < 5; i++) {
            batch.run(); // warm-up
        }
        double[] ns = new double[batches];
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        CyclicBarrier end = new CyclicBarrier(threads + 1);
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    for (int b = 0; b < batches; b++) {
                        start.await();
                        batch.run();
                        end.await();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            th.setDaemon(true);
            th.start();
        }
        for (int b = 0; b < batches; b++) {
            start.await();
            long t0 = System.nanoTime();
            end.await();
            ns[b] = (System.nanoTime() - t0) / (double) BATCH;
        }
        Arrays.sort(ns);
        return ns[batches / 2];
    }

    static void report(String what, double ns) {
        System.out.printf(Locale.ROOT, "%-42s %10.1f ns per request%n", what, ns);
    }
}
