package io.ironruntime.router;

import io.ironruntime.cost.Usage;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Lock-free running totals of what metered requests used and cost, for {@code metrics()}. */
final class SpendTotals {
    final LongAdder settled = new LongAdder();
    final LongAdder inputTokens = new LongAdder();
    final LongAdder cacheReadTokens = new LongAdder();
    final LongAdder cacheWriteTokens = new LongAdder();
    final LongAdder outputTokens = new LongAdder();
    final LongAdder costPicos = new LongAdder();
    final LongAdder unknownCost = new LongAdder();
    final LongAdder estimatedUsage = new LongAdder();
    final LongAdder refusedExhausted = new LongAdder();
    final LongAdder refusedInsufficient = new LongAdder();
    final LongAdder refusedUnknownModel = new LongAdder();
    final LongAdder boundsInjected = new LongAdder();
    private final Map<String, ModelTotals> byModel = new ConcurrentHashMap<>();

    /** What one model used and cost. */
    static final class ModelTotals {
        final LongAdder requests = new LongAdder();
        final LongAdder costPicos = new LongAdder();
        final LongAdder inputTokens = new LongAdder();
        final LongAdder outputTokens = new LongAdder();
    }

    void record(String model, Usage usage, long cost, boolean known, boolean estimated) {
        settled.increment();
        inputTokens.add(usage.inputTokens());
        cacheReadTokens.add(usage.cacheReadTokens());
        cacheWriteTokens.add(usage.cacheWriteTokens());
        outputTokens.add(usage.outputTokens());
        costPicos.add(cost);
        if (!known) {
            unknownCost.increment();
        }
        if (estimated) {
            estimatedUsage.increment();
        }
        ModelTotals m = byModel.computeIfAbsent(model == null ? "" : model, k -> new ModelTotals());
        m.requests.increment();
        m.costPicos.add(cost);
        m.inputTokens.add(usage.totalInputTokens());
        m.outputTokens.add(usage.outputTokens());
    }

    /** A sorted copy, for reporting. */
    Map<String, ModelTotals> byModel() {
        return new TreeMap<>(byModel);
    }
}
