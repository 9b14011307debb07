package io.ironruntime.router;

import io.ironruntime.provider.Provider;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * The only instruments the router observes on the request path: latency histograms by provider.
 * Everything else Prometheus shows is read from the engine's counters at scrape time. Data points are
 * resolved once per provider, so an observation is an array read and the library's lock-free
 * {@code observe}; classic buckets only (native histograms cost more per observation and need the
 * protobuf format).
 */
public final class LatencyHistograms {
    private static final double[] UPSTREAM_BOUNDS = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300};
    private static final double[] ROUTER_BOUNDS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1, 0.25, 1};

    private final DistributionDataPoint[] head;
    private final DistributionDataPoint[] total;
    private final DistributionDataPoint[] added;

    public LatencyHistograms(PrometheusRegistry registry) {
        head = byProvider(Histogram.builder().name("iron_upstream_response_head_seconds")
                .help("Time from sending a request upstream to the provider's response head, per provider call (retries each count)")
                .unit(Unit.SECONDS).labelNames("provider").classicOnly().classicUpperBounds(UPSTREAM_BOUNDS)
                .register(registry));
        total = byProvider(Histogram.builder().name("iron_upstream_duration_seconds")
                .help("Time from sending a request upstream to the provider's last response byte, for responses that arrived whole")
                .unit(Unit.SECONDS).labelNames("provider").classicOnly().classicUpperBounds(UPSTREAM_BOUNDS)
                .register(registry));
        added = byProvider(Histogram.builder().name("iron_router_added_seconds")
                .help("Time the router itself added to a proxied request: from the whole request body to the upstream call"
                        + " (queueing for an in-flight slot excluded), plus from the last upstream byte to the last byte handed to the client")
                .unit(Unit.SECONDS).labelNames("provider").classicOnly().classicUpperBounds(ROUTER_BOUNDS)
                .register(registry));
    }

    private static DistributionDataPoint[] byProvider(Histogram h) {
        Provider[] providers = Provider.values();
        DistributionDataPoint[] points = new DistributionDataPoint[providers.length];
        for (Provider p : providers) {
            points[p.ordinal()] = h.labelValues(p.wireName());
        }
        return points;
    }

    public void responseHead(Provider p, long nanos) {
        head[p.ordinal()].observe(nanos / 1e9);
    }

    public void upstreamDone(Provider p, long nanos) {
        total[p.ordinal()].observe(nanos / 1e9);
    }

    public void routerAdded(Provider p, long nanos) {
        added[p.ordinal()].observe(nanos / 1e9);
    }
}
