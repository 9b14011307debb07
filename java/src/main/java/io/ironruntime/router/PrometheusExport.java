package io.ironruntime.router;

import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.resilience.CircuitBreaker;
import io.ironruntime.telemetry.FeedHub;
import io.ironruntime.telemetry.LabelCap;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The router's {@code /metrics}: a Prometheus registry of its own (never the library's global one,
 * which another library in the same JVM may share) whose series, apart from the latency histograms,
 * are callbacks reading the engine's counters when scraped. So a series costs the request path nothing
 * beyond the counters the engine keeps anyway. Lives as long as the router object.
 */
final class PrometheusExport {
    static final Unit USD = new Unit("usd");
    static final int MAX_AGENTS = 1_000;

    /** A scrape's body and its content type (Prometheus text 0.0.4, or OpenMetrics when asked for). */
    record Scrape(byte[] body, String contentType) {
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ExpositionFormats formats = ExpositionFormats.init();
    final LatencyHistograms latency = new LatencyHistograms(registry);
    private final LabelCap agentLabels = new LabelCap(MAX_AGENTS);

    /** @param pii the audit of a router with PII handling on, or {@link PiiAudit#OFF} */
    PrometheusExport(RouterStats stats, Accounting accounting, PiiAudit pii, Resilience resilience,
            Supplier<UpstreamClient> upstream) {
        TrafficTotals traffic = accounting.traffic;
        counter("iron_requests", "Requests on the proxy routes by the status they ended with"
                + " (a metered request: its ledger row's status; 499: the client left first)", null,
                new String[] {"provider", "model", "status"}, cb -> traffic.requests().forEach((k, n) ->
                        cb.call(n.sum(), k.provider().wireName(), k.model(), Integer.toString(k.status()))));
        counter("iron_tokens", "Tokens of settled metered requests by kind", null,
                new String[] {"provider", "model", "kind"}, cb -> traffic.usage().forEach((k, u) -> {
                    String p = k.provider().wireName();
                    cb.call(u.inputTokens.sum(), p, k.model(), "input");
                    cb.call(u.cacheReadTokens.sum(), p, k.model(), "cache_read");
                    cb.call(u.cacheWriteTokens.sum(), p, k.model(), "cache_write");
                    cb.call(u.outputTokens.sum(), p, k.model(), "output");
                }));
        counter("iron_cost_usd", "What settled metered requests cost, in US dollars", USD,
                new String[] {"provider", "model"}, cb -> traffic.usage().forEach((k, u) ->
                        cb.call(dollars(u.costPicos.sum()), k.provider().wireName(), k.model())));

        gauge("iron_budget_limit_usd", "The router's budget; absent when it has no limit", USD, new String[0], cb -> {
            BudgetLedger.Snapshot b = accounting.ledger.snapshot();
            if (!b.unlimited()) {
                cb.call(dollars(b.limit()));
            }
        });
        gauge("iron_budget_spent_usd", "Spent from the router's budget (with other routers sharing its budget_id)", USD,
                new String[0], cb -> cb.call(dollars(accounting.ledger.snapshot().spent())));
        gauge("iron_budget_reserved_usd", "Reserved by requests in flight", USD, new String[0],
                cb -> cb.call(dollars(accounting.ledger.snapshot().reserved())));
        counter("iron_budget_refused_requests", "Requests refused with 402 for want of budget", null, new String[0],
                cb -> cb.call(accounting.totals.refusedExhausted.sum() + accounting.totals.refusedInsufficient.sum()));

        counter("iron_pii_detections", "PII found in requests and responses, by entity type and what was done", null,
                new String[] {"type", "action"}, cb -> {
                    String action = pii.action();
                    pii.byType().forEach((type, n) -> cb.call(n, type, action));
                });

        gauge("iron_circuit_state", "Circuit per upstream: 0 closed, 1 half-open, 2 open", null,
                new String[] {"provider", "origin"}, cb -> resilience.circuits.upstreams().forEach(c ->
                        cb.call(circuitValue(c.state()), c.provider().wireName(), origin(c))));
        counter("iron_circuit_rejected_requests", "Requests refused with 503 by an open or half-open circuit", null,
                new String[] {"provider", "origin"}, cb -> resilience.circuits.upstreams().forEach(c ->
                        cb.call(c.rejected(), c.provider().wireName(), origin(c))));

        counter("iron_rate_limited_requests", "Requests refused with 429 by the router's rate limits", null,
                new String[0], cb -> cb.call(resilience.rateLimited.sum()));
        counter("iron_queue_timeouts", "Requests refused with 429 after waiting queue_timeout for an in-flight slot",
                null, new String[0], cb -> cb.call(resilience.queueTimeouts.sum()));
        gauge("iron_queued_requests", "Requests waiting for an in-flight slot (max_in_flight)", null, new String[0],
                cb -> cb.call(resilience.gate.waiting()));
        gauge("iron_upstream_in_flight", "Provider calls in flight", null, new String[0],
                cb -> cb.call(resilience.gate.active()));
        gauge("iron_requests_in_flight", "Client requests the router is serving now", null, new String[0],
                cb -> cb.call(stats.inFlight()));
        counter("iron_upstream_retries", "Provider calls repeated after a failure or a 429/5xx", null, new String[0],
                cb -> cb.call(resilience.retries.sum()));
        gauge("iron_upstream_connections", "Open connections to providers", null, new String[0], cb -> {
            UpstreamClient client = upstream.get();
            cb.call(client == null ? 0 : client.openConnections());
        });

        agentSeries(accounting.agents);
    }

    /** Per runtime agent; beyond {@link #MAX_AGENTS} ids, the rest add up under {@code agent_id="other"}. */
    private void agentSeries(AgentAccounts agents) {
        String[] id = {"agent_id"};
        counter("iron_agent_requests", "Settled metered requests of a runtime agent", null, id,
                cb -> byAgent(agents, AgentAccount::requests).forEach((a, v) -> cb.call(v, a)));
        counter("iron_agent_tokens", "Tokens of a runtime agent's settled requests (input includes cached)", null,
                new String[] {"agent_id", "kind"}, cb -> {
                    byAgent(agents, AgentAccount::inputTokens).forEach((a, v) -> cb.call(v, a, "input"));
                    byAgent(agents, AgentAccount::outputTokens).forEach((a, v) -> cb.call(v, a, "output"));
                });
        counter("iron_agent_cost_usd", "What a runtime agent's requests cost, in US dollars", USD, id,
                cb -> byAgent(agents, a -> a.budget().spent()).forEach((a, v) -> cb.call(dollars(v), a)));
        gauge("iron_agent_budget_reserved_usd", "Reserved by a runtime agent's requests in flight", USD, id,
                cb -> byAgent(agents, a -> a.budget().reserved()).forEach((a, v) -> cb.call(dollars(v), a)));
        gauge("iron_agent_budget_limit_usd", "A runtime agent's own budget; absent when it has none", USD, id, cb -> {
            for (AgentAccount a : agents.all()) {
                String label = agentLabels.of(a.agentId());
                BudgetLedger.Snapshot b = a.budget();
                if (!b.unlimited() && !label.equals(LabelCap.OTHER)) { // a sum of limits would mean nothing
                    cb.call(dollars(b.limit()), label);
                }
            }
        });
        counter("iron_agent_pii_detections", "PII found in a runtime agent's requests and responses", null, id,
                cb -> byAgent(agents, AgentAccount::piiDetections).forEach((a, v) -> cb.call(v, a)));
        counter("iron_agent_refused_requests", "A runtime agent's requests refused for want of its own budget", null, id,
                cb -> byAgent(agents, AgentAccount::refusedRequests).forEach((a, v) -> cb.call(v, a)));
    }

    /** The live feed's subscribers (SSE and WebSocket) and the ones cut off for not keeping up. */
    void feedSeries(FeedHub hub) {
        gauge("iron_feed_subscribers", "Live feed subscribers connected now (SSE and WebSocket)", null, new String[0],
                cb -> cb.call(hub.subscribers()));
        counter("iron_feed_subscribers_dropped", "Live feed subscribers disconnected for not reading fast enough", null,
                new String[0], cb -> cb.call(hub.dropped()));
        counter("iron_feed_messages_sent", "Messages handed to live feed subscribers", null, new String[0],
                cb -> cb.call(hub.sent()));
        counter("iron_feed_auth_failures", "WebSocket feed clients closed for a wrong or missing token", null,
                new String[0], cb -> cb.call(hub.authFailures()));
    }

    private Map<String, Long> byAgent(AgentAccounts agents, java.util.function.ToLongFunction<AgentAccount> figure) {
        Map<String, Long> out = new HashMap<>();
        for (AgentAccount a : agents.all()) {
            out.merge(agentLabels.of(a.agentId()), figure.applyAsLong(a), Long::sum);
        }
        return out;
    }

    /** The registry's series in the format the {@code Accept} header asks for (text 0.0.4 by default). */
    Scrape scrape(String accept) {
        ExpositionFormatWriter writer = formats.findWriter(accept);
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return new Scrape(out.toByteArray(), writer.getContentType());
    }

    private void counter(String name, String help, Unit unit, String[] labels,
            java.util.function.Consumer<CounterWithCallback.Callback> callback) {
        CounterWithCallback.Builder b = CounterWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback);
        if (unit != null) {
            b.unit(unit);
        }
        b.register(registry);
    }

    private void gauge(String name, String help, Unit unit, String[] labels,
            java.util.function.Consumer<GaugeWithCallback.Callback> callback) {
        GaugeWithCallback.Builder b = GaugeWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback);
        if (unit != null) {
            b.unit(unit);
        }
        b.register(registry);
    }

    static double dollars(long picos) {
        return picos / 1e12;
    }

    private static double circuitValue(CircuitBreaker.State s) {
        return switch (s) {
            case CLOSED -> 0;
            case HALF_OPEN -> 1;
            case OPEN -> 2;
        };
    }

    /** Scheme, host and port only: an origin's user info (a credential) never becomes a label. */
    private static String origin(Circuits.UpstreamCircuit c) {
        java.net.URI o = c.origin();
        return o.getScheme() + "://" + o.getHost() + (o.getPort() < 0 ? "" : ":" + o.getPort());
    }
}
