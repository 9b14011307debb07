package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.AdminClient;
import io.ironruntime.FixedReplyProvider;
import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.router.LlmRouter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The REST endpoints over real runtimes: real python3 agents, real signals, a real router and
 * database; the runtime attaches itself to its router and detaches at shutdown.
 */
class AgentRestApiTest {
    private static final String REPLY = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}";
    /** Runs until killed: it ignores SIGTERM, so a stop takes the whole stop timeout and ends with SIGKILL. */
    private static final String STUBBORN = """
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("ready", flush=True)
            while True:
                time.sleep(0.05)
            """;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(4);

    @TempDir
    Path dir;
    private FixedReplyProvider provider;
    private LlmRouter router;
    private final List<AgentRuntime> runtimes = new ArrayList<>();

    @BeforeEach
    void start() {
        provider = new FixedReplyProvider(REPLY);
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-test\",\"openai_base_url\":\""
                + provider.origin() + "\",\"state_dir\":\"" + dir.resolve("state") + "\"}"));
        router.start();
    }

    @AfterEach
    void stopAll() {
        runtimes.forEach(AgentRuntime::shutdown);
        router.close();
        provider.close();
    }

    private AgentRuntime runtime() {
        AgentRuntime rt = new AgentRuntime(new RuntimeConfig(null, null, STOP_TIMEOUT, Scripts.PYTHON, false), router);
        runtimes.add(rt);
        return rt;
    }

    private String startAgent(AgentRuntime rt, String name, String code) {
        Path script = Scripts.write(dir, name + ".py", code);
        return rt.startAgent(new AgentSpec(script, List.of(), Map.of(), Scripts.environment(), null, name, null, null,
                null)).agentId();
    }

    private static List<JsonNode> agents(AdminClient client) {
        AdminClient.Reply r = client.get("/iron/api/agents");
        assertEquals(200, r.status(), r.body());
        List<JsonNode> out = new ArrayList<>();
        r.json().get("agents").forEach(out::add);
        return out;
    }

    private static TreeSet<String> keys(JsonNode o) {
        TreeSet<String> out = new TreeSet<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext();) {
            out.add(it.next());
        }
        return out;
    }

    @Test
    void agentsAreListedPausedResumedAndStopped() throws Exception {
        AgentRuntime rt = runtime();
        AdminClient client = new AdminClient(router);
        String done = startAgent(rt, "done", "print('bye')\n");
        assertEquals(0, rt.waitAgent(done, Scripts.PATIENCE));
        String id = startAgent(rt, "stubborn", STUBBORN);
        long pid = rt.metrics(id).get("pid").asLong();
        Scripts.eventually("the agent is ready", () -> rt.logs(id, 5).contains("ready"));

        List<JsonNode> list = agents(client);
        assertEquals(List.of(id, done), List.of(list.get(0).get("agent_id").asText(), list.get(1).get("agent_id").asText()),
                "newest first");
        ObjectNode direct = rt.metrics(id);
        assertEquals(keys(direct), keys(list.get(0)), "the keys of get_metrics");
        assertEquals("running", list.get(0).get("status").asText());
        assertEquals(pid, list.get(0).get("pid").asLong());
        assertEquals("completed", list.get(1).get("status").asText());
        JsonNode counts = client.get("/iron/api/status").json().get("agents");
        assertEquals(2, counts.get("total").asInt());
        assertEquals(1, counts.get("running").asInt());
        assertEquals(1, counts.get("by_status").get("completed").asInt());

        AdminClient.Reply paused = client.post("/iron/api/agents/" + id + "/pause");
        assertEquals(200, paused.status(), paused.body());
        assertEquals("paused", paused.json().get("agent").get("status").asText());
        assertEquals("paused", rt.metrics(id).get("status").asText());
        Scripts.eventually("the process is stopped (T)", () -> Character.valueOf('T').equals(ProcStat.state(pid)));
        AdminClient.Reply again = client.post("/iron/api/agents/" + id + "/pause");
        assertEquals(409, again.status(), again.body());
        assertEquals("agent_state", again.errorCode());
        assertTrue(again.errorMessage().contains("is paused"), again.errorMessage());

        AdminClient.Reply resumed = client.post("/iron/api/agents/" + id + "/resume");
        assertEquals(200, resumed.status(), resumed.body());
        assertEquals("running", resumed.json().get("agent").get("status").asText());
        Scripts.eventually("the process runs again", () -> !Character.valueOf('T').equals(ProcStat.state(pid)));
        assertEquals(409, client.post("/iron/api/agents/" + id + "/resume").status());

        // The agent ignores SIGTERM: the stop takes STOP_TIMEOUT, and the reply does not wait for it.
        AdminClient.Reply stopping = client.post("/iron/api/agents/" + id + "/stop");
        assertEquals(200, stopping.status(), stopping.body());
        assertEquals("stopping", stopping.json().get("agent").get("status").asText());
        assertNotNull(ProcStat.state(pid), "the agent still runs when the reply comes");
        AdminClient.Reply twice = client.post("/iron/api/agents/" + id + "/stop");
        assertEquals(409, twice.status(), twice.body());
        assertTrue(twice.errorMessage().contains("already stopping"), twice.errorMessage());
        assertEquals(137, rt.waitAgent(id, Scripts.PATIENCE), "SIGKILL after the stop timeout");
        assertEquals("stopped", rt.metrics(id).get("status").asText());
        AdminClient.Reply late = client.post("/iron/api/agents/" + id + "/pause");
        assertEquals(409, late.status());
        assertTrue(late.errorMessage().contains("is stopped"), late.errorMessage());

        AdminClient.Reply unknown = client.post("/iron/api/agents/agent_unknown/resume");
        assertEquals(404, unknown.status());
        assertEquals("agent_not_found", unknown.errorCode());
        assertTrue(unknown.errorMessage().contains("agent_unknown"));
    }

    @Test
    void agentsOfEveryAttachedRuntimeAndOfEndedOnesAreListed() throws Exception {
        AdminClient client = new AdminClient(router);
        AgentRuntime first = runtime();
        String a = startAgent(first, "a", STUBBORN);
        AgentRuntime second = runtime();
        String b = startAgent(second, "b", STUBBORN);
        List<JsonNode> list = agents(client);
        assertEquals(List.of(b, a), List.of(list.get(0).get("agent_id").asText(), list.get(1).get("agent_id").asText()));
        assertEquals(200, client.post("/iron/api/agents/" + a + "/pause").status(), "the first runtime's agent");
        assertEquals(200, client.post("/iron/api/agents/" + b + "/pause").status(), "the second runtime's agent");

        first.shutdown(); // detaches: its agent is now only a row of the database
        router.flushLedger(10_000);
        list = agents(client);
        assertEquals(2, list.size(), list.toString());
        JsonNode ended = list.get(1);
        assertEquals(a, ended.get("agent_id").asText());
        assertEquals("stopped", ended.get("status").asText());
        assertEquals(first.id, ended.get("runtime_id").asText());
        AdminClient.Reply refused = client.post("/iron/api/agents/" + a + "/resume");
        assertEquals(409, refused.status(), refused.body());
        assertEquals("agent_state", refused.errorCode());
        assertTrue(refused.errorMessage().contains(first.id), refused.errorMessage());
        assertEquals("paused", list.get(0).get("status").asText(), "the live agent as its runtime shows it");
        assertTrue(list.get(0).has("process_state") && !ended.has("process_state"), "live figures, not the row's");
        assertEquals(200, client.post("/iron/api/agents/" + b + "/resume").status());
    }
}
