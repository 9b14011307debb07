package io.ironruntime.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.agent.AgentHandle;
import io.ironruntime.agent.AgentNotFoundException;
import io.ironruntime.agent.AgentOutputFeed;
import io.ironruntime.agent.AgentReport;
import io.ironruntime.agent.AgentRuntime;
import io.ironruntime.agent.AgentSpec;
import io.ironruntime.agent.BudgetExhaustedPolicy;
import io.ironruntime.agent.RestartPolicy;
import io.ironruntime.agent.RestartSettings;
import io.ironruntime.agent.RuntimeConfig;
import io.ironruntime.config.ConfigException;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.Money;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What Python's {@code Runtime} holds: JSON text and plain values in and out. The router is the
 * Python {@code LlmRouter}'s own bridge, so both views share one engine.
 */
public final class RuntimeBridge {
    private final AgentRuntime runtime;
    /** Output feeds of the agents started with {@code follow_output} (the run command reads them). */
    private final Map<String, AgentOutputFeed> feeds = new ConcurrentHashMap<>();

    private RuntimeBridge(AgentRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * @param router       the Python router's bridge
     * @param settingsJson {@code on_budget_exhausted}, {@code stop_timeout} (seconds), {@code python}, {@code verbose}
     * @param ownsRouter   whether shutting the runtime down closes the router
     */
    public static RuntimeBridge create(RouterBridge router, String settingsJson, boolean ownsRouter) {
        JsonNode s = read(settingsJson, "runtime settings");
        RuntimeConfig config = new RuntimeConfig(null,
                BudgetExhaustedPolicy.parse(s.path("on_budget_exhausted").asText("block")),
                s.hasNonNull("stop_timeout") ? seconds(s.get("stop_timeout").asDouble(), "stop_timeout") : null,
                s.path("python").asText(null), s.path("verbose").asBoolean(false));
        return new RuntimeBridge(ownsRouter ? AgentRuntime.owning(config, router.router())
                : new AgentRuntime(config, router.router()));
    }

    /** Starts an agent from a spec in the Python keyword names; returns its metrics as JSON. */
    public String startAgent(String specJson) {
        JsonNode s = read(specJson, "start_agent arguments");
        List<String> args = new ArrayList<>();
        s.path("args").forEach(a -> args.add(a.asText()));
        RestartSettings restart = new RestartSettings(RestartPolicy.parse(s.path("restart").asText("never")),
                s.path("max_restarts").asInt(RestartSettings.DEFAULT_MAX_RESTARTS),
                optionalSeconds(s, "restart_window", RestartSettings.DEFAULT_WINDOW),
                optionalSeconds(s, "restart_delay", RestartSettings.DEFAULT_BASE_DELAY),
                optionalSeconds(s, "restart_max_delay", RestartSettings.DEFAULT_MAX_DELAY));
        Long budget = s.hasNonNull("budget") ? RouterConfigReader.budgetLimit(s.get("budget").asText()) : null;
        AgentSpec spec = new AgentSpec(Path.of(s.path("script").asText()), args, strings(s.get("env")),
                strings(s.get("inherited_env")), budget, s.path("name").asText(null),
                s.hasNonNull("cwd") ? Path.of(s.get("cwd").asText()) : null, s.path("python").asText(null), restart);
        AgentOutputFeed feed = s.path("follow_output").asBoolean(false) ? new AgentOutputFeed() : null;
        AgentHandle h = runtime.startAgent(spec, feed);
        if (feed != null) {
            feeds.put(h.agentId(), feed);
        }
        return runtime.metrics(h.agentId()).toString();
    }

    /** The agent's metrics as JSON, or null for an unknown id. */
    public String metricsJson(String agentId) {
        ObjectNode m = runtime.metrics(agentId);
        return m == null ? null : m.toString();
    }

    public String listJson() {
        ArrayNode a = Json.MAPPER.createArrayNode();
        runtime.listAgents().forEach(a::add);
        return a.toString();
    }

    public void pause(String agentId) {
        runtime.pauseAgent(agentId);
    }

    public void resume(String agentId) {
        runtime.resumeAgent(agentId);
    }

    public int stop(String agentId, double timeoutSeconds) {
        return runtime.stopAgent(agentId, seconds(timeoutSeconds, "timeout"));
    }

    /** The exit code, or null when the agent still runs after {@code timeoutSeconds} (negative: wait for ever). */
    public Integer waitFor(String agentId, double timeoutSeconds) throws InterruptedException {
        return runtime.waitAgent(agentId, timeoutSeconds < 0 ? null : seconds(timeoutSeconds, "timeout"));
    }

    public String logs(String agentId, int tail) {
        return runtime.logs(agentId, tail);
    }

    /**
     * What a {@code follow_output} agent printed since the last call, waiting up to {@code waitSeconds}
     * for something: JSON {@code [["stdout"|"stderr", base64 bytes], ...]} in order ({@code []}: nothing
     * yet, or no feed). Base64 keeps the bytes exact: the command writes them to its own streams.
     */
    public String readOutput(String agentId, double waitSeconds) throws InterruptedException {
        AgentOutputFeed feed = feeds.get(agentId);
        ArrayNode a = Json.MAPPER.createArrayNode();
        if (feed != null) {
            Base64.Encoder b64 = Base64.getEncoder();
            for (AgentOutputFeed.Chunk c : feed.take(seconds(waitSeconds, "wait"))) {
                a.addArray().add(c.stream().wireName()).add(b64.encodeToString(c.bytes()));
            }
        }
        return a.toString();
    }

    /** Stops feeding the agent's output (the reader is done); nothing waits on the feed any more. */
    public void closeOutput(String agentId) {
        AgentOutputFeed feed = feeds.remove(agentId);
        if (feed != null) {
            feed.close();
        }
    }

    /** The run command's status line for the agent (see {@link AgentReport#statusLine}). */
    public String statusLine(String agentId, int width) {
        return AgentReport.statusLine(existing(agentId), width);
    }

    /** The run command's final summary for the agent; {@code stoppedOn} is the signal that stopped it, or null. */
    public String summary(String agentId, String stoppedOn) {
        BudgetLedger.Snapshot total = runtime.router().budget();
        return AgentReport.summary(existing(agentId), Money.picosToDollars(total.spent()),
                total.unlimited() ? null : Money.picosToDollars(total.limit()), stoppedOn);
    }

    public void shutdown() {
        feeds.values().forEach(AgentOutputFeed::close); // no pump may wait for a reader that is gone
        feeds.clear();
        runtime.shutdown();
    }

    private ObjectNode existing(String agentId) {
        ObjectNode m = runtime.metrics(agentId);
        if (m == null) {
            throw new AgentNotFoundException(agentId);
        }
        return m;
    }

    public AgentRuntime runtime() {
        return runtime;
    }

    private static Duration seconds(double s, String name) {
        if (!(s >= 0) || s > 366 * 86_400) {
            throw new ConfigException(name + " must be a number of seconds between 0 and a year, got " + s);
        }
        return Duration.ofNanos(Math.round(s * 1e9));
    }

    private static Duration optionalSeconds(JsonNode s, String name, Duration fallback) {
        return s.hasNonNull(name) ? seconds(s.get(name).asDouble(), name) : fallback;
    }

    private static Map<String, String> strings(JsonNode o) {
        if (o == null || o.isNull()) {
            return null;
        }
        Map<String, String> m = new HashMap<>();
        o.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
        return m;
    }

    private static JsonNode read(String json, String what) {
        JsonNode n = Json.readOrNull(json);
        if (n == null || !n.isObject()) {
            throw new ConfigException(what + " must be a JSON object");
        }
        return n;
    }
}
