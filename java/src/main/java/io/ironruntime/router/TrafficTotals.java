package io.ironruntime.router;

import io.ironruntime.cost.Usage;
import io.ironruntime.provider.Provider;
import io.ironruntime.telemetry.LabelCap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests by provider, model and status, and what metered requests used by provider and model: the
 * dimensions the Prometheus series need and no other counter has. Model names come from clients, so
 * they pass a {@link LabelCap} ({@link #MAX_MODELS}) before they become keys. Lock-free on record;
 * read at scrape time.
 */
public final class TrafficTotals {
    static final int MAX_MODELS = 200;

    record RequestKey(Provider provider, String model, int status) {
    }

    record ModelKey(Provider provider, String model) {
    }

    /** One provider and model's settled usage; cost in exact pico-dollars. */
    static final class ModelUsage {
        final LongAdder inputTokens = new LongAdder();
        final LongAdder cacheReadTokens = new LongAdder();
        final LongAdder cacheWriteTokens = new LongAdder();
        final LongAdder outputTokens = new LongAdder();
        final LongAdder costPicos = new LongAdder();
    }

    private final LabelCap models = new LabelCap(MAX_MODELS);
    private final Map<RequestKey, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<ModelKey, ModelUsage> usage = new ConcurrentHashMap<>();

    /** One request is over, answered with {@code status} (a metered one: the status of its ledger row). */
    public void request(Provider provider, String model, int status) {
        requests.computeIfAbsent(new RequestKey(provider, models.of(model), status), k -> new LongAdder()).increment();
    }

    /** A metered request settled with this usage and cost. */
    void settled(Provider provider, String model, Usage u, long costPicos) {
        ModelUsage m = usage.computeIfAbsent(new ModelKey(provider, models.of(model)), k -> new ModelUsage());
        m.inputTokens.add(u.inputTokens());
        m.cacheReadTokens.add(u.cacheReadTokens());
        m.cacheWriteTokens.add(u.cacheWriteTokens());
        m.outputTokens.add(u.outputTokens());
        m.costPicos.add(costPicos);
    }

    Map<RequestKey, LongAdder> requests() {
        return requests;
    }

    Map<ModelKey, ModelUsage> usage() {
        return usage;
    }
}
