package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.AdminRequest;
import io.ironruntime.admin.AdminRoutes;
import io.ironruntime.admin.AdminWorkers;
import io.ironruntime.config.RouterConfig;
import io.ironruntime.control.ControlSession;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventBus;
import io.ironruntime.events.EventQuery;
import io.ironruntime.events.EventQueue;
import io.ironruntime.events.RecentEvents;
import io.ironruntime.state.LedgerStore;
import io.ironruntime.telemetry.DashboardPage;
import io.ironruntime.telemetry.EngineLogging;
import io.ironruntime.telemetry.LiveFeeds;
import java.sql.SQLException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hc.core5.http.HttpResponseInterceptor;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.impl.HttpProcessors;
import org.apache.hc.core5.http.impl.bootstrap.AsyncServerBootstrap;
import org.apache.hc.core5.http.impl.bootstrap.HttpAsyncServer;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.reactor.ListenerEndpoint;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local LLM proxy: an HttpCore 5 async server on loopback in front of the providers. Start, stop
 * and start again; each start gets fresh I/O reactors (all daemon threads) and, when the configured
 * port is 0, tries to keep the port of the previous run so clients' base URLs stay valid.
 */
public final class LlmRouter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LlmRouter.class);
    /** The buffer of each event consumer (Python delivery, the database). */
    static final int EVENT_QUEUE = 4_096;
    /** How long {@link #events} waits for the writer to commit what was published before it. */
    static final long EVENTS_READ_FLUSH_MILLIS = 2_000;

    private final RouterConfig config;
    private final RouterStats stats = new RouterStats();
    private final ResponseObserver observer;
    private final Accounting accounting;
    /** Null when PII handling is off. */
    private final PiiGuard pii;
    /** Every engine event of this router and its agents, fanned out to the consumers below. */
    private final EventBus events = new EventBus();
    /** Python's delivery buffer, made by the first {@link #pollEvents} (nobody drains it before). */
    private EventQueue delivery;
    /** The history {@link #events} reads without a database; null with one. */
    private final RecentEvents recent;
    private final Resilience resilience;
    private final PrometheusExport prometheus;
    /** The router's own endpoints (metrics, REST, feeds, dashboard), behind the admin token. */
    private final AdminRoutes admin = new AdminRoutes();
    /** Where admin endpoints that read the database run (never the I/O threads). */
    private final AdminWorkers adminWorkers = new AdminWorkers("iron-admin");
    /** The agents of the runtimes attached to this router, for the REST endpoints. */
    private final AgentsApi agentsApi = new AgentsApi(this::store);
    private final ClientAuth adminAuth;
    private final HostGuard hosts;
    /** One line per finished request ({@code verbose}); null without it. */
    private final RequestLog requestLog;
    /** This router's say in the engine's log level, given back at close. */
    private final EngineLogging.Hold logLevel;
    /** The live feeds: SSE on this port, WebSocket on a second one while running. */
    private final LiveFeeds feeds;
    private final HostGuard feedHosts;
    private HttpAsyncServer server;
    private volatile UpstreamClient upstream;
    /** Bound port; read by every request's Host check, so volatile. */
    private volatile int port;
    private volatile boolean running;
    /** When the current (or last) run started, ms since the epoch; 0 before the first. */
    private volatile long startedAtMs;
    private boolean closed;

    public LlmRouter(RouterConfig config) {
        this(config, ResponseObserver.NONE);
    }

    /** Opens the ledger database (when persistence is on); serving begins with {@link #start()}. */
    public LlmRouter(RouterConfig config, ResponseObserver observer) {
        this.config = config;
        this.observer = observer;
        this.accounting = Accounting.open(config.budget(), events);
        if (config.control() != null) {
            accounting.control(ControlSession.open(config.control(), accounting.store(), accounting, events,
                    config.eventRetentionDays()));
        }
        this.pii = config.pii().mode() == io.ironruntime.pii.PiiMode.OFF ? null
                : new PiiGuard(config.pii(), events, accounting.store());
        this.resilience = new Resilience(config.resilience(), events);
        this.prometheus = new PrometheusExport(stats, accounting, pii == null ? PiiAudit.OFF : pii.audit, resilience,
                () -> upstream);
        this.adminAuth = new ClientAuth(config.adminToken());
        this.hosts = new HostGuard(config.host(), this::port);
        admin.add("GET", "/metrics", this::scrape);
        admin.add("GET", "/iron/metrics", this::scrape);
        RestApi.register(admin, adminWorkers, this, agentsApi);
        admin.add("GET", "/iron/api/requests", adminWorkers.offload(new RequestsEndpoint(accounting)));
        this.feeds = new LiveFeeds(events, this::metrics, this::isRunning, id -> {
            AgentAccount a = accounting.agents.get(id);
            return a == null ? null : a.toJson();
        }, adminAuth::accepts, LiveFeeds.HEARTBEAT_MILLIS, LiveFeeds.AUTH_TIMEOUT_MILLIS);
        this.feedHosts = new HostGuard(config.host(), feeds::port);
        admin.add("GET", "/iron/events", feeds.sse());
        prometheus.feedSeries(feeds.hub());
        admin.addPublic("GET", DashboardPage.PATH, request -> DashboardPage.get().reply());
        LedgerStore store = accounting.store();
        if (store == null) {
            recent = new RecentEvents();
            events.attach(recent);
        } else {
            recent = null;
            try {
                store.recordEvents(events.subscribe("store", EVENT_QUEUE), config.eventRetentionDays(),
                        System.currentTimeMillis());
            } catch (SQLException e) {
                if (accounting.control() != null) {
                    accounting.control().close();
                }
                accounting.close();
                throw new RouterStartException("cannot prepare the events table of " + config.budget().database()
                        + " (" + e.getMessage() + ")", e);
            }
        }
        this.logLevel = EngineLogging.hold(config.logLevel());
        this.requestLog = config.verbose() ? new RequestLog(RequestLog.CAPACITY) : null;
    }

    public synchronized void start() {
        if (running) {
            return;
        }
        if (closed) {
            throw new IllegalStateException("this router is closed; create a new one");
        }
        int wanted = config.port() != 0 ? config.port() : port;
        try {
            feeds.start(config.host(), feedHosts::allows, o -> hosts.allowsOrigin(o) || feedHosts.allowsOrigin(o));
        } catch (IllegalStateException e) {
            throw new RouterStartException(e.getMessage(), e.getCause());
        }
        ControlSession control = accounting.control();
        if (control != null) {
            try {
                control.start(); // the key and the first lease, before the first client can ask
            } catch (ControlSession.StartFailure e) {
                feeds.stop();
                throw new ControlStartException(e.getMessage(), e);
            }
        }
        try {
            try {
                bind(wanted);
            } catch (RouterStartException e) {
                if (wanted == config.port()) {
                    throw e;
                }
                bind(0); // the previous run's port was taken meanwhile: any free port will do
            }
        } catch (RouterStartException e) {
            feeds.stop();
            if (control != null) {
                control.stop();
            }
            throw e;
        }
        running = true;
        startedAtMs = System.currentTimeMillis();
        ObjectNode p = io.ironruntime.Json.MAPPER.createObjectNode();
        p.put("host", config.host());
        p.put("port", port);
        p.put("base_url", baseUrl());
        p.put("mode", config.keyMode().wireName());
        publish(EngineEvent.of(EngineEvent.ROUTER_STARTED, null, null, p));
        LOG.info("iron-runtime router listening on {} ({})", baseUrl(), config);
    }

    private void bind(int wantedPort) {
        UpstreamClient client = new UpstreamClient(config);
        ClientHangups hangups = new ClientHangups();
        resilience.start();
        RouterContext context = new RouterContext(config, this::port, stats, client, observer, hangups, accounting, pii,
                resilience, prometheus, requestLog);
        HttpAsyncServer s = AsyncServerBootstrap.bootstrap()
                .setIOReactorConfig(IOReactorConfig.custom()
                        .setIoThreadCount(RouterContext.IO_THREADS_PER_REACTOR)
                        .setSoReuseAddress(true)
                        .setTcpNoDelay(true)
                        // A client waits silently while its request queues, retries or the provider thinks:
                        // its connection may be idle for as long as the whole call may take.
                        .setSoTimeout(Timeout.of(config.resilience().timeouts().total().plusSeconds(60)))
                        .build())
                .setIOSessionDecorator(hangups)
                // Replies HttpCore writes itself (a malformed request, 431, 505) get an id too.
                .setHttpProcessor(HttpProcessors.customServer(null).addLast((HttpResponseInterceptor) (response, entity, ctx) -> {
                    if (!response.containsHeader(RouterContext.REQUEST_ID_HEADER)) {
                        response.addHeader(RouterContext.REQUEST_ID_HEADER, context.ids.next());
                    }
                }).build())
                .setRequestRouter((request, ctx) -> admin.serves(RouteResolver.pathOf(request.getPath()))
                        ? () -> new AdminExchange(admin, hosts, adminAuth, context.ids.next())
                        : () -> new ProxyExchange(context))
                .create();
        try {
            s.start();
            ListenerEndpoint endpoint = s.listen(new InetSocketAddress(config.host(), wantedPort), URIScheme.HTTP)
                    .get(10, TimeUnit.SECONDS);
            int bound = ((InetSocketAddress) endpoint.getAddress()).getPort();
            this.server = s;
            this.upstream = client;
            this.port = bound;
        } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
            s.close(CloseMode.IMMEDIATE);
            client.close();
            resilience.stop();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            String why = cause instanceof BindException ? "address already in use or not available"
                    : cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
            throw new RouterStartException("cannot listen on " + config.host() + ":" + wantedPort + " (" + why + ")", cause);
        }
    }

    /**
     * Stops listening at once (the port is free when this returns) and waits briefly for the ledger
     * rows of settled requests to be committed; idempotent. The router can start again.
     */
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        server.close(CloseMode.IMMEDIATE);
        try {
            server.awaitShutdown(TimeValue.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        upstream.close();
        resilience.stop();
        server = null;
        upstream = null;
        ObjectNode p = io.ironruntime.Json.MAPPER.createObjectNode();
        p.put("port", port);
        p.put("requests", stats.requests());
        publish(EngineEvent.of(EngineEvent.ROUTER_STOPPED, null, null, p)); // before the flush, so it is stored
        feeds.stop(); // WebSocket clients hear router_stopped, then 1001
        if (!accounting.flush(10_000) && accounting.ledgerPending() > 0) {
            LOG.warn("{} ledger rows were not yet written when the router stopped; they are kept and retried",
                    accounting.ledgerPending());
        }
        ControlSession control = accounting.control();
        if (control != null) {
            control.stop(); // reports, analytics and the leases' return, once every settled row is committed
        }
        LOG.info("iron-runtime router on port {} stopped", port);
    }

    /** Stops and closes the ledger database; the router cannot start again. Idempotent. */
    @Override
    public synchronized void close() {
        stop();
        if (!closed) {
            closed = true;
            adminWorkers.close();
            if (accounting.control() != null) {
                accounting.control().close();
            }
            accounting.close();
            if (requestLog != null) {
                requestLog.close();
            }
            logLevel.close();
        }
    }

    private AdminReply scrape(AdminRequest r) {
        PrometheusExport.Scrape scrape = prometheus.scrape(r.header("Accept"));
        return AdminReply.bytes(200, scrape.contentType(), scrape.body());
    }

    /** The router's own endpoints: other parts of the engine (the runtime, the feeds) add theirs here. */
    public AdminRoutes adminRoutes() {
        return admin;
    }

    /**
     * Lets the REST endpoints list and control a runtime's agents; a runtime attaches itself when it
     * is made and detaches at shutdown.
     */
    public void attachAgentControl(AgentControl control) {
        agentsApi.attach(control);
    }

    public void detachAgentControl(AgentControl control) {
        agentsApi.detach(control);
    }

    // ---- budget and metrics ----------------------------------------------------------------------

    /** The budget now: limit (or {@link BudgetLedger#UNLIMITED}), spent and reserved, in pico-dollars. */
    public BudgetLedger.Snapshot budget() {
        return accounting.ledger.snapshot();
    }

    /** A new limit in pico-dollars, effective for the next request; requests in flight keep their reservations. */
    public void setBudget(long limitPicos) {
        accounting.setLimit(limitPicos);
    }

    /** The runtime agents this router serves, each by its own token and budget. */
    public AgentAccounts agents() {
        return accounting.agents;
    }

    /** Counters, tokens and money so far, as JSON (dollars as numbers). */
    public ObjectNode metrics() {
        ObjectNode o = RouterMetrics.of(stats, accounting, pii == null ? PiiAudit.OFF : pii.audit, events);
        resilience.addTo(o);
        feeds.addTo(o);
        UpstreamClient client = upstream;
        o.put("upstream_connections", client == null ? 0 : client.openConnections());
        o.put("request_log_dropped", requestLog == null ? 0 : requestLog.dropped());
        ControlSession control = accounting.control();
        if (control != null) {
            control.addTo(o);
        }
        return o;
    }

    /** Adds an event of another part of the engine (the agent runtime) to the router's stream; never blocks. */
    public void publish(EngineEvent event) {
        events.publish(event);
    }

    /** The publisher every consumer (Python delivery, the database, live feeds) subscribes to. */
    public EventBus eventBus() {
        return events;
    }

    /**
     * The newest stored events matching {@code q}, oldest first: from the database (after waiting
     * briefly for the writer to commit what was published so far) or, without one, from memory.
     */
    public List<EngineEvent> events(EventQuery q) throws SQLException {
        LedgerStore store = accounting.store();
        if (store == null) {
            return recent.query(q);
        }
        accounting.flush(EVENTS_READ_FLUSH_MILLIS);
        return store.events(q);
    }

    /** The router's database (ledger, audit, agents), or null when persistence is off. */
    public io.ironruntime.state.LedgerStore store() {
        return accounting.store();
    }

    /** Events not yet delivered (budget alerts, PII detections): waits up to {@code timeoutMillis} for the first. */
    public List<EngineEvent> pollEvents(int max, long timeoutMillis) throws InterruptedException {
        return deliveryQueue().poll(max, timeoutMillis);
    }

    /** Python's buffer; created on first use, so events before anyone listens are not counted as dropped. */
    public synchronized EventQueue deliveryQueue() {
        if (delivery == null) {
            delivery = events.subscribe("python", EVENT_QUEUE);
        }
        return delivery;
    }

    /** Waits until every settled request is in the database; false on timeout or without persistence. */
    public boolean flushLedger(long timeoutMillis) {
        return accounting.flush(timeoutMillis);
    }

    public boolean isRunning() {
        return running;
    }

    /** When the current (or last) run started, ms since the epoch; 0 before the first start. */
    public long startedAtMs() {
        return startedAtMs;
    }

    /** The bound port while running (or of the last run); the configured port before the first start. */
    public int port() {
        return port != 0 ? port : config.port();
    }

    public String baseUrl() {
        return origin() + "/v1";
    }

    /** The dashboard's link, signed in with the admin token (in the fragment, which is never sent to a server). */
    public String dashboardUrl() {
        return DashboardPage.url(origin(), config.adminToken());
    }

    /** {@code http://host:port} as clients reach it. */
    private String origin() {
        return "http://" + urlHost() + ":" + port();
    }

    /** The live feed's WebSocket ({@code ws://127.0.0.1:PORT/iron/ws}) while running, else null. */
    public String eventsUrl() {
        int p = feeds.port();
        return running && p != 0 ? "ws://" + urlHost() + ":" + p + feeds.path() : null;
    }

    private String urlHost() {
        String h = config.host();
        if (h.equals("0.0.0.0") || h.equals("::")) {
            return "127.0.0.1";
        }
        return h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h;
    }

    /** Control-server mode's session (key, leases, sync), or null in other modes. */
    public ControlSession control() {
        return accounting.control();
    }

    public RouterConfig config() {
        return config;
    }

    public RouterStats stats() {
        return stats;
    }
}
