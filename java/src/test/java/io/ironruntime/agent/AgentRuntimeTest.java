package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.Json;
import io.ironruntime.config.ConfigException;
import io.ironruntime.config.RouterConfig;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.router.LlmRouter;
import io.ironruntime.state.AgentStatusRow;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java runtime API end to end: real python3 agents (plain urllib, no SDK) calling a real router in
 * front of a JDK HttpServer provider, a real SQLite database in a temp directory.
 */
class AgentRuntimeTest {
    private static final String PROVIDER_KEY = "sk-test-PROVIDER-0123456789";
    /** 1000 input + 100 output tokens of gpt-4o-mini: $0.00021 a call. */
    private static final String REPLY = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"total_tokens\":1100}}";
    /** An agent that calls the router N times the way an SDK would (from the governed variables), printing each status. */
    private static final String CALLER = """
            import json, os, sys, urllib.request, urllib.error
            n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
            for i in range(n):
                req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions",
                    data=json.dumps({"model": "gpt-4o-mini", "max_tokens": 100,
                                     "messages": [{"role": "user", "content": "hi jane.doe@example.com"}]}).encode(),
                    headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"], "Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        print("status", r.status, flush=True)
                except urllib.error.HTTPError as e:
                    print("status", e.code, flush=True)
            """;

    @TempDir
    Path dir;
    private FixedReplyProvider provider;
    private AgentRuntime runtime;

    @BeforeEach
    void startProvider() {
        provider = new FixedReplyProvider(REPLY);
    }

    @AfterEach
    void stopAll() {
        if (runtime != null) {
            runtime.shutdown();
        }
        provider.close();
    }

    private RouterConfig routerConfig(String extra) {
        return RouterConfigReader.fromJson("{\"provider_key\":\"" + PROVIDER_KEY + "\",\"openai_base_url\":\"" + provider.origin()
                + "\",\"state_dir\":\"" + dir.resolve("state") + "\"" + extra + "}");
    }

    private AgentRuntime runtime(String extra, BudgetExhaustedPolicy policy) {
        runtime = new AgentRuntime(new RuntimeConfig(routerConfig(extra), policy, Duration.ofSeconds(5), Scripts.PYTHON, false));
        return runtime;
    }

    private static AgentSpec spec(Path script, Long budgetPicos, RestartSettings restart, Map<String, String> env,
            String... args) {
        return new AgentSpec(script, List.of(args), env, Scripts.environment(), budgetPicos, null, null, null, restart);
    }

    private static JsonNode metrics(AgentRuntime rt, String id) {
        return rt.metrics(id);
    }

    @Test
    void anAgentsCallsAreItsOwnAndItNeverSeesTheProviderKey() throws Exception {
        AgentRuntime rt = runtime("", null);
        Path script = Scripts.write(dir, "agent.py", CALLER + """
                print("env", json.dumps({k: v for k, v in os.environ.items()
                                         if k.startswith(("OPENAI", "ANTHROPIC", "IRON", "SNEAKY", "EXTRA"))}))
                """);
        Map<String, String> inherited = new HashMap<>(Scripts.environment());
        inherited.put("SNEAKY_COPY_OF_THE_KEY", PROVIDER_KEY);
        inherited.put("OPENAI_API_KEY", PROVIDER_KEY);
        AgentSpec s = new AgentSpec(script, List.of("2"), Map.of("EXTRA", "yes"), inherited, null, "caller", null, null, null);
        AgentHandle h = rt.startAgent(s);
        assertTrue(h.agentId().startsWith("agent_") && h.toString().equals(h.agentId()));
        assertEquals(0, rt.waitAgent(h.agentId(), Scripts.PATIENCE));

        ObjectNode m = rt.metrics(h.agentId());
        assertEquals("completed", m.get("status").asText());
        assertEquals("caller", m.get("name").asText());
        assertEquals(2, m.get("requests").asLong());
        assertEquals(2000, m.get("input_tokens").asLong());
        assertEquals(200, m.get("output_tokens").asLong());
        assertEquals(420_000_000L, m.get("budget_spent_picos").asLong());
        assertEquals(2, m.get("pii_detections").asLong());
        assertEquals(2, provider.calls());

        String logs = rt.logs(h.agentId(), 50);
        assertTrue(logs.contains("status 200\nstatus 200\n"), logs);
        JsonNode env = Json.MAPPER.readTree(logs.substring(logs.indexOf("env ") + 4).strip());
        assertEquals(h.agentId(), env.get("IRON_RUNTIME_AGENT_ID").asText());
        assertEquals(rt.router().baseUrl(), env.get("OPENAI_BASE_URL").asText());
        assertEquals(env.get("OPENAI_API_KEY").asText(), env.get("ANTHROPIC_API_KEY").asText());
        assertEquals("yes", env.get("EXTRA").asText());
        assertFalse(env.has("SNEAKY_COPY_OF_THE_KEY"));
        assertFalse(logs.contains(PROVIDER_KEY), "the agent saw the provider key");
        assertFalse(logs.contains(rt.router().config().localToken()), "the agent saw the router's own token");
    }

    @Test
    void theEnvironmentMayNotOverrideGovernanceOrCarryAKey() {
        AgentRuntime rt = runtime("", null);
        Path script = Scripts.write(dir, "a.py", "print('x')\n");
        ConfigException e = assertThrows(ConfigException.class,
                () -> rt.startAgent(spec(script, null, null, Map.of("OPENAI_BASE_URL", "https://api.openai.com/v1"))));
        assertTrue(e.getMessage().contains("OPENAI_BASE_URL"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> rt.startAgent(spec(script, null, null, Map.of("K", PROVIDER_KEY))));
        assertFalse(e.getMessage().contains(PROVIDER_KEY));
        assertTrue(rt.listAgents().isEmpty(), "a refused start leaves no agent behind");
    }

    @Test
    void aCrashingAgentIsRestartedThenEndsFailedWithItsLastWords() throws Exception {
        AgentRuntime rt = runtime("", null);
        Path script = Scripts.write(dir, "crash.py", """
                import sys
                print("starting", flush=True)
                print("boom: the agent fell over", file=sys.stderr, flush=True)
                sys.exit(3)
                """);
        RestartSettings restart = new RestartSettings(RestartPolicy.ON_FAILURE, 2, Duration.ofSeconds(60),
                Duration.ofMillis(10), Duration.ofMillis(50));
        AgentHandle h = rt.startAgent(spec(script, null, restart, null));
        assertEquals(3, rt.waitAgent(h.agentId(), Scripts.PATIENCE));
        ObjectNode m = rt.metrics(h.agentId());
        assertEquals("failed", m.get("status").asText());
        assertEquals(2, m.get("restarts").asInt());
        String error = m.get("last_error").asText();
        assertTrue(error.contains("exited with code 3") && error.contains("boom: the agent fell over")
                && error.contains("restarted 2 times"), error);

        rt.router().flushLedger(5_000);
        List<String> statuses = rt.router().store().history(h.agentId()).stream().map(AgentStatusRow::status).toList();
        assertEquals(List.of("running", "restarting", "starting", "running", "restarting", "starting", "running", "failed"),
                statuses);
    }

    @Test
    void pauseResumeAndStopReachTheProcessGroup() throws Exception {
        AgentRuntime rt = runtime("", null);
        Path script = Scripts.write(dir, "sleeper.py", """
                import subprocess, time
                child = subprocess.Popen(["sleep", "300"])
                print("child", child.pid, flush=True)
                while True:
                    time.sleep(0.05)
                """);
        AgentHandle h = rt.startAgent(spec(script, null, null, null));
        Scripts.eventually("the child's pid printed", () -> rt.logs(h.agentId(), 5).contains("child "));
        String line = rt.logs(h.agentId(), 5).lines().filter(l -> l.startsWith("child ")).findFirst().orElseThrow();
        long child = Long.parseLong(line.substring(6).strip());

        rt.pauseAgent(h.agentId());
        assertEquals("paused", rt.metrics(h.agentId()).get("status").asText());
        Scripts.eventually("agent stopped", () -> Character.valueOf('T').equals(ProcStat.state(h.pid())));
        Scripts.eventually("grandchild stopped", () -> Character.valueOf('T').equals(ProcStat.state(child)));
        assertThrows(AgentStateException.class, () -> rt.pauseAgent(h.agentId()));
        rt.resumeAgent(h.agentId());
        Scripts.eventually("agent running", () -> !Character.valueOf('T').equals(ProcStat.state(h.pid())));

        assertEquals(143, rt.stopAgent(h.agentId(), Duration.ofSeconds(5)));
        assertEquals("stopped", rt.metrics(h.agentId()).get("status").asText());
        Scripts.eventually("grandchild gone", () -> ProcStat.state(child) == null || ProcStat.state(child) == 'Z');
        AgentStateException twice = assertThrows(AgentStateException.class,
                () -> rt.stopAgent(h.agentId(), Duration.ofSeconds(1)));
        assertTrue(twice.getMessage().contains("already stopped"), twice.getMessage());
        assertThrows(AgentNotFoundException.class, () -> rt.stopAgent("agent_nope", Duration.ofSeconds(1)));
        assertNull(rt.metrics("agent_nope"));
    }

    @Test
    void anAgentOverItsBudgetIsStoppedUnderTheStopPolicy() throws Exception {
        AgentRuntime rt = runtime("", BudgetExhaustedPolicy.STOP);
        Path script = Scripts.write(dir, "spender.py", CALLER + """
                import time
                time.sleep(300)
                """);
        AgentHandle h = rt.startAgent(spec(script, 200_000_000L, null, null, "1")); // one call costs more
        assertEquals(143, rt.waitAgent(h.agentId(), Scripts.PATIENCE));
        ObjectNode m = rt.metrics(h.agentId());
        assertEquals("stopped", m.get("status").asText());
        assertTrue(m.get("last_error").asText().contains("budget"), m.toString());
        assertTrue(m.get("budget_spent_picos").asLong() >= 200_000_000L);
    }

    @Test
    void aNewRuntimeListsTheAgentsOfTheLastOneAsEndedWithTheirSpend() throws Exception {
        AgentRuntime first = runtime("", null);
        Path calls1 = Scripts.write(dir, "one.py", CALLER);
        Path sleeper = Scripts.write(dir, "forever.py", "import time\ntime.sleep(300)\n");
        AgentHandle done = first.startAgent(spec(calls1, null, null, null, "1"));
        assertEquals(0, first.waitAgent(done.agentId(), Scripts.PATIENCE));
        AgentHandle running = first.startAgent(spec(sleeper, null, null, null));
        first.shutdown();
        runtime = null;
        assertNull(ProcStat.state(running.pid()), "shutdown left the agent running");

        AgentRuntime second = runtime("", null);
        List<ObjectNode> all = second.listAgents();
        assertEquals(2, all.size());
        ObjectNode doneRow = all.stream().filter(o -> o.get("agent_id").asText().equals(done.agentId())).findFirst().orElseThrow();
        assertEquals("completed", doneRow.get("status").asText());
        assertEquals(210_000_000L, doneRow.get("budget_spent_picos").asLong());
        assertEquals(1, doneRow.get("requests").asLong());
        ObjectNode stopped = all.stream().filter(o -> o.get("agent_id").asText().equals(running.agentId())).findFirst().orElseThrow();
        assertEquals("stopped", stopped.get("status").asText());
        assertEquals(210_000_000L, second.metrics(done.agentId()).get("budget_spent_picos").asLong());
    }

    @Test
    void aRuntimeNeedsARouterThatHoldsTheKeys() {
        LlmRouter passthrough = new LlmRouter(RouterConfigReader.fromJson("{\"persist\":false}"));
        try {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> new AgentRuntime(RuntimeConfig.of(null), passthrough));
            assertTrue(e.getMessage().contains("provider keys"), e.getMessage());
        } finally {
            passthrough.close();
        }
    }

    @Test
    void aLaunchFailureIsThrownAndLeavesNoAgent() {
        AgentRuntime rt = runtime("", null);
        Path script = Scripts.write(dir, "ok.py", "print('hi')\n");
        AgentSpec bad = new AgentSpec(script, List.of(), null, Scripts.environment(), null, null, null,
                "/nonexistent/python3", null);
        AgentLaunchException e = assertThrows(AgentLaunchException.class, () -> rt.startAgent(bad));
        assertTrue(e.getMessage().contains("/nonexistent/python3"), e.getMessage());
        assertThrows(AgentLaunchException.class, () -> rt.startAgent(spec(dir.resolve("missing.py"), null, null, null)));
        assertTrue(rt.listAgents().isEmpty());
    }
}
