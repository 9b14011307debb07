package io.ironruntime.agent;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.config.ConfigException;
import io.ironruntime.config.KeyMode;
import io.ironruntime.config.RouterConfig;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.router.AgentAccount;
import io.ironruntime.router.LlmRouter;
import io.ironruntime.state.AgentRow;
import io.ironruntime.state.LedgerStore;
import io.ironruntime.state.StoreRow;
import io.ironruntime.telemetry.RecordedAgents;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs agent scripts as governed child processes: each gets its own router token (so every LLM call
 * it makes is attributed to it and held to its budget), its own process group (so pause, resume and
 * stop reach everything it started), a supervisor that restarts it by its policy, and a record in
 * the router's database. Agents do not outlive the runtime: {@link #shutdown} stops them, a JVM
 * shutdown hook kills them, and each agent also dies with the JVM's process (see {@link AgentLaunch}).
 */
public final class AgentRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentRuntime.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One id per runtime instance, recorded with its agents. */
    final String id = "runtime_" + UUID.randomUUID();
    final RuntimeConfig config;
    private final LlmRouter router;
    private final boolean ownsRouter;
    private final LedgerStore store;
    private final List<String> secrets;
    private final Map<String, SupervisedAgent> agents = new LinkedHashMap<>();
    /** Restart delays; the work itself is short. */
    private final ScheduledExecutorService timers;
    /** Stops the stop policy orders (a stop waits, and must not wait on an I/O or watcher thread). */
    private final ExecutorService stopper;
    private final Thread shutdownHook;
    /** Kills the agents' groups if this process dies without shutting down; null when it could not start. */
    private final GroupReaper reaper;
    /** What the router's REST endpoints see and do of this runtime's agents. */
    private final RuntimeControl control = new RuntimeControl(this);
    private boolean shutDown;

    /** A runtime with a router of its own, built from {@code config.router()} and started now. */
    public AgentRuntime(RuntimeConfig config) {
        this(config, new LlmRouter(requireRouterConfig(config)), true);
    }

    /** A runtime that takes over {@code router}: it starts it if needed and closes it at shutdown. */
    public static AgentRuntime owning(RuntimeConfig config, LlmRouter router) {
        return new AgentRuntime(config, router, true);
    }

    /** A runtime whose agents go through {@code router} (started if it is not), which it does not stop. */
    public AgentRuntime(RuntimeConfig config, LlmRouter router) {
        this(config, router, false);
    }

    private AgentRuntime(RuntimeConfig config, LlmRouter router, boolean ownsRouter) {
        RouterConfig rc = router.config();
        if (rc.keyMode() == KeyMode.PASSTHROUGH || rc.localToken() == null) {
            if (ownsRouter) {
                router.close();
            }
            throw new ConfigException("a runtime needs a router that holds the provider keys (provider_key=... or"
                    + " OPENAI_API_KEY / ANTHROPIC_API_KEY, or an Iron Cage api_key): agents get a router token,"
                    + " never a real key, so a passthrough router cannot serve them");
        }
        this.config = config;
        this.router = router;
        this.ownsRouter = ownsRouter;
        this.store = router.store();
        List<String> s = new ArrayList<>(rc.providerKeys().values());
        s.add(rc.localToken());
        if (rc.icToken() != null) {
            s.add(rc.icToken());
        }
        this.secrets = List.copyOf(s);
        this.reaper = GroupReaper.start(config.python());
        this.timers = Executors.newSingleThreadScheduledExecutor(daemon("iron-agent-timers"));
        this.stopper = Executors.newCachedThreadPool(daemon("iron-agent-stopper"));
        if (!router.isRunning()) {
            router.start();
        }
        if (store != null) {
            try {
                int orphans = store.endOrphans(id, System.currentTimeMillis());
                if (orphans > 0) {
                    LOG.info("{} agent(s) of runtimes that ended before them are recorded as stopped", orphans);
                }
            } catch (SQLException e) {
                LOG.warn("could not record agents of ended runtimes as stopped: {}", e.getMessage());
            }
        }
        if (config.onBudgetExhausted() == BudgetExhaustedPolicy.STOP) {
            router.agents().onExhausted(this::budgetExhausted);
        }
        this.shutdownHook = new Thread(this::killAll, "iron-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        router.attachAgentControl(control);
    }

    private static RouterConfig requireRouterConfig(RuntimeConfig config) {
        if (config.router() == null) {
            throw new ConfigException("RuntimeConfig.router is null: pass the router settings, or a running LlmRouter");
        }
        return config.router();
    }

    // ---- agents ----------------------------------------------------------------------------------------

    /**
     * Starts an agent and returns once its process runs (leading its own process group).
     *
     * @throws AgentLaunchException when the script, the interpreter or the directory is wrong; nothing is kept
     * @throws ConfigException      when the spec's environment would hand the agent a governed variable or a key
     */
    public AgentHandle startAgent(AgentSpec spec) {
        return startAgent(spec, null);
    }

    /**
     * Starts an agent whose output, across its restarts, is also given to {@code output} as it is
     * printed (for a caller that shows it live, like the {@code run} command); see {@link #startAgent(AgentSpec)}.
     */
    public AgentHandle startAgent(AgentSpec spec, AgentOutputListener output) {
        String agentId = "agent_" + UUID.randomUUID();
        String token = "irt_agent_" + randomToken();
        Map<String, String> env = AgentEnvironment.build(
                spec.inheritedEnv() != null ? spec.inheritedEnv() : System.getenv(), spec.env(), router.baseUrl(),
                token, agentId, secrets);
        AgentLaunch launch = AgentLaunch.builder(spec.script())
                .python(spec.python() != null ? spec.python() : config.python())
                .args(spec.args())
                .cwd(spec.cwd())
                .environment(env)
                .logFile(logFile(agentId))
                .outputListener(output)
                .build();
        SupervisedAgent agent;
        synchronized (this) {
            if (shutDown) {
                throw new AgentStateException("this runtime is shut down; create a new one");
            }
            AgentAccount account = router.agents().register(agentId, token,
                    spec.budgetPicos() == null ? BudgetLedger.UNLIMITED : spec.budgetPicos());
            agent = new SupervisedAgent(agentId, spec, account, launch, this);
            agents.put(agentId, agent);
        }
        try {
            agent.start();
        } catch (RuntimeException e) {
            synchronized (this) {
                agents.remove(agentId);
            }
            router.agents().revoke(agentId);
            throw e;
        }
        return new AgentHandle(agent);
    }

    public void pauseAgent(String agentId) {
        agent(agentId).pause();
    }

    public void resumeAgent(String agentId) {
        agent(agentId).resume();
    }

    /** SIGTERM to the agent's process group, SIGKILL after {@code timeout}; returns its exit code. */
    public int stopAgent(String agentId, Duration timeout) {
        return agent(agentId).stop(timeout, null);
    }

    /**
     * Starts stopping the agent without waiting (for a caller on a thread that must not block): its
     * status is {@code stopping} when this returns; SIGTERM, and SIGKILL after the stop timeout, follow
     * on a thread of the runtime.
     *
     * @throws AgentStateException when it is stopping or has ended, or the runtime is shutting down
     */
    void stopLater(SupervisedAgent a) {
        synchronized (this) {
            if (shutDown) { // shutdown stops every agent itself; the stopper may already be gone
                throw new AgentStateException("the runtime is shutting down: agent " + a.id + " is being stopped with it");
            }
            AgentProcess p = a.beginStop(null);
            if (p != null) {
                stopper.execute(() -> {
                    try {
                        p.stop(config.stopTimeout());
                    } catch (RuntimeException e) {
                        LOG.warn("stopping agent {} failed: {}", a.id, e.getMessage());
                    }
                });
            }
        }
    }

    /** The agent's final exit code, or null when it is still going after {@code timeout} (null: wait for ever). */
    public Integer waitAgent(String agentId, Duration timeout) throws InterruptedException {
        return agent(agentId).await(timeout);
    }

    /** The last {@code lines} lines the agent printed, stdout and stderr interleaved as they came. */
    public String logs(String agentId, int lines) {
        if (lines < 0) {
            throw new IllegalArgumentException("tail must not be negative, got " + lines);
        }
        return agent(agentId).logs(lines);
    }

    /** The agent's figures and status, or null for an id this runtime and its database do not know. */
    public ObjectNode metrics(String agentId) {
        SupervisedAgent live;
        synchronized (this) {
            live = agents.get(agentId);
        }
        if (live != null) {
            return live.metrics();
        }
        if (store == null) {
            return null;
        }
        try {
            return RecordedAgents.one(store, agentId);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read agent " + agentId + " from " + store + ": " + e.getMessage(), e);
        }
    }

    /**
     * Every agent: this runtime's, then the ones the database remembers from earlier runtimes (ended,
     * with their final spend), newest first.
     */
    public List<ObjectNode> listAgents() {
        List<ObjectNode> out = ownAgents();
        if (store != null) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            out.forEach(a -> seen.add(a.get("agent_id").asText()));
            try {
                out.addAll(RecordedAgents.list(store, seen));
            } catch (SQLException e) {
                throw new IllegalStateException("cannot read the agents from the database: " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** The agents this runtime started, newest first. */
    List<ObjectNode> ownAgents() {
        List<SupervisedAgent> live;
        synchronized (this) {
            live = new ArrayList<>(agents.values());
        }
        List<ObjectNode> out = new ArrayList<>();
        for (int i = live.size() - 1; i >= 0; i--) {
            out.add(live.get(i).metrics());
        }
        return out;
    }

    /** Stops every agent (in parallel, each SIGKILLed after the stop timeout), then the router if it owns it. */
    public void shutdown() {
        List<SupervisedAgent> running;
        synchronized (this) {
            if (shutDown) {
                return;
            }
            shutDown = true;
            running = new ArrayList<>(agents.values());
        }
        List<java.util.concurrent.Future<?>> stops = new ArrayList<>();
        for (SupervisedAgent a : running) {
            if (!a.ended()) {
                stops.add(stopper.submit(() -> {
                    try {
                        a.stop(config.stopTimeout(), "the runtime shut down");
                    } catch (AgentStateException e) {
                        // it ended meanwhile, or a stop without waiting (the REST API's) is under way: wait for it
                        a.await(config.stopTimeout().plusSeconds(15));
                    }
                    return null;
                }));
            }
        }
        for (java.util.concurrent.Future<?> f : stops) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.warn("stopping an agent failed: {}", e.getCause().toString());
            }
        }
        router.detachAgentControl(control);
        timers.shutdownNow();
        stopper.shutdown();
        if (reaper != null) {
            reaper.close();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down already
        }
        if (ownsRouter) {
            router.close();
        } else {
            router.flushLedger(5_000);
        }
    }

    @Override
    public void close() {
        shutdown();
    }

    public LlmRouter router() {
        return router;
    }

    // ---- what the agents call back --------------------------------------------------------------------

    void store(AgentRow row, StoreRow history) {
        if (store != null) {
            store.append(row);
            store.append(history);
        }
    }

    void log(SupervisedAgent agent, AgentStatus status, String detail) {
        if (config.verbose()) {
            LOG.info("agent {} ({}) {}{}", agent.id, agent.spec.name(), status.wireName(),
                    detail == null ? "" : ": " + scrub(detail));
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("agent {} ({}) {}{}", agent.id, agent.spec.name(), status.wireName(),
                    detail == null ? "" : ": " + scrub(detail));
        }
    }

    void event(String type, SupervisedAgent agent, ObjectNode payload) {
        router.publish(EngineEvent.of(type, agent.id, null, payload == null ? Json.MAPPER.createObjectNode() : payload));
    }

    /** A run of an agent started: its group is killed if this process dies before it ends. */
    void groupStarted(long pgid) {
        if (reaper != null) {
            reaper.watch(pgid);
        }
    }

    /** The run ended and its group is gone. */
    void groupEnded(long pgid) {
        if (reaper != null) {
            reaper.forget(pgid);
        }
    }

    ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
        return timers.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** The agent is over for good: its token stops working. */
    void ended(SupervisedAgent agent) {
        router.agents().revoke(agent.id);
    }

    String scrub(String text) {
        return ErrorText.scrub(text, secrets);
    }

    // ---- internals ------------------------------------------------------------------------------------

    /** This runtime's agent of that id, or null. */
    synchronized SupervisedAgent find(String agentId) {
        return agents.get(agentId);
    }

    private SupervisedAgent agent(String agentId) {
        SupervisedAgent a = find(agentId);
        if (a == null) {
            throw new AgentNotFoundException(agentId);
        }
        return a;
    }

    private void budgetExhausted(AgentAccount account) {
        SupervisedAgent a;
        synchronized (this) {
            a = agents.get(account.agentId());
        }
        if (a == null) {
            return;
        }
        BudgetLedger.Snapshot b = account.budget();
        String reason = "its budget of $" + Money.picosToDollars(b.limit()) + " is spent (on_budget_exhausted='stop')";
        stopper.execute(() -> {
            try {
                a.stop(config.stopTimeout(), reason);
            } catch (AgentStateException e) {
                // already ending
            }
        });
    }

    /** JVM shutdown: no time for grace; every agent's group gets SIGKILL. */
    private void killAll() {
        List<SupervisedAgent> all;
        synchronized (this) {
            all = new ArrayList<>(agents.values());
        }
        for (SupervisedAgent a : all) {
            a.killNow();
        }
    }

    private Path logFile(String agentId) {
        Path db = router.config().budget().database();
        return db == null ? null : db.resolveSibling("agents").resolve(agentId + ".log");
    }

    private static String randomToken() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
