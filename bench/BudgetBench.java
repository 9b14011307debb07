/*
 * iron-runtime budget microbenchmark (issue 3, "Performance": the budget check and reservation add
 * at most 2 us per request).
 *
 *   java -cp target/iron-runtime-0.1.0.jar bench/BudgetBench.java [--quick]
 *
 * Measures, per request, what the router's metering stage does before a request goes upstream and
 * when it settles, on an already parsed request body (parsing happens for every request anyway):
 * the price lookup (with a dated alias), the request estimate (walk and byte bound, no tokenizer),
 * the reservation plan, BudgetLedger.reserve and Reservation.settle. Also shown, for scale: the
 * tokenizer count the router falls back to only when the budget is too short for the byte bound,
 * and the same admit/settle cycle with two threads contending for one ledger.
 *
 * Figures are medians over batches (each batch 20,000 requests), after a warm-up; this is a JMH-free
 * equivalent: one class, one JVM, nothing else running in it.
 */

import io.ironruntime.Json;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.ModelPrice;
import io.ironruntime.cost.PricingTable;
import io.ironruntime.cost.RequestEstimate;
import io.ironruntime.cost.ReservationPlan;
import io.ironruntime.cost.Usage;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;

public final class BudgetBench {
    static final int BATCH = 20_000;
    static volatile long sink;

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        int batches = quick ? 15 : 60;
        PricingTable pricing = PricingTable.bundled();
        // A typical agent call: a system prompt, two turns, a tool definition, a bound (~1.3 KB).
        String body = "{\"model\":\"gpt-4o-mini-2024-07-18\",\"max_completion_tokens\":512,\"messages\":["
                + "{\"role\":\"system\",\"content\":\"" + "You are a careful research assistant. ".repeat(8) + "\"},"
                + "{\"role\":\"user\",\"content\":\"" + "Summarise the quarterly report and list the risks. ".repeat(6) + "\"},"
                + "{\"role\":\"assistant\",\"content\":\"Here is the summary you asked for.\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Now the second part, please.\"}]}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"search\",\"description\":\"Search the"
                + " archive\",\"parameters\":{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\"}}}}}]}";
        var json = Json.MAPPER.readTree(body);
        String model = json.get("model").asText();
        Usage usage = new Usage(300, 0, 0, 120);
        BudgetLedger ledger = new BudgetLedger(1_000_000L * 1_000_000_000_000L, 0); // a budget that never runs out

        Runnable admitAndSettle = () -> {
            ModelPrice price = pricing.find(model);
            RequestEstimate estimate = RequestEstimate.of(model, json);
            ReservationPlan plan = ReservationPlan.of(price, estimate.inputBound(), estimate.outputBound(), 1, true);
            BudgetLedger.Decision d = ledger.reserve(plan.wanted(), plan.wanted());
            d.reservation().settle(price.cost(usage));
            sink += plan.wanted();
        };
        Runnable ledgerOnly = () -> {
            BudgetLedger.Decision d = ledger.reserve(1_000, 1_000);
            d.reservation().settle(700);
        };
        Runnable tokenizer = () -> sink += RequestEstimate.of(model, json).inputTokens();

        System.out.printf(Locale.ROOT, "iron-runtime budget microbenchmark: %d CPUs, Java %s, request %d bytes%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), body.length());
        warm(admitAndSettle, quick ? 1 : 3);
        warm(ledgerOnly, quick ? 1 : 2);
        warm(tokenizer, quick ? 1 : 2);

        double admit = median(admitAndSettle, batches);
        double ledgerNs = median(ledgerOnly, batches);
        double contended = contended(admitAndSettle, batches);
        double tokens = median(tokenizer, Math.max(5, batches / 4));
        System.out.println();
        System.out.printf(Locale.ROOT, "%-58s %10s  %-9s%n", "per request (median of batches)", "ns", "target");
        System.out.printf(Locale.ROOT, "%-58s %10.0f  %-9s %s%n", "price + estimate + plan + reserve + settle (1 thread)",
                admit, "<= 2000", admit <= 2000 ? "ok" : "MISS");
        System.out.printf(Locale.ROOT, "%-58s %10.0f  %-9s %s%n", "the same, 2 threads on one ledger (per request)",
                contended, "<= 2000", contended <= 2000 ? "ok" : "MISS");
        System.out.printf(Locale.ROOT, "%-58s %10.0f%n", "BudgetLedger.reserve + settle alone", ledgerNs);
        System.out.printf(Locale.ROOT, "%-58s %10.0f%n", "tokenizer count (fallback when the budget is tight)", tokens);
        if (ledger.snapshot().reserved() != 0) {
            throw new IllegalStateException("reservations leaked");
        }
    }

    static void warm(Runnable r, int seconds) {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 1_000; i++) {
                r.run();
            }
        }
    }

    static double median(Runnable r, int batches) {
        double[] ns = new double[batches];
        for (int b = 0; b < batches; b++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < BATCH; i++) {
                r.run();
            }
            ns[b] = (System.nanoTime() - t0) / (double) BATCH;
        }
        Arrays.sort(ns);
        return ns[batches / 2];
    }

    /** Two threads run batches side by side; per-request time is wall time over both threads' requests. */
    static double contended(Runnable r, int batches) throws Exception {
        double[] ns = new double[batches];
        CyclicBarrier start = new CyclicBarrier(2);
        Thread other = new Thread(() -> {
            try {
                for (int b = 0; b < batches; b++) {
                    start.await();
                    for (int i = 0; i < BATCH; i++) {
                        r.run();
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        other.setDaemon(true);
        other.start();
        for (int b = 0; b < batches; b++) {
            start.await();
            long t0 = System.nanoTime();
            for (int i = 0; i < BATCH; i++) {
                r.run();
            }
            ns[b] = (System.nanoTime() - t0) / (double) BATCH / 2;
        }
        other.join();
        Arrays.sort(ns);
        return ns[batches / 2];
    }
}
