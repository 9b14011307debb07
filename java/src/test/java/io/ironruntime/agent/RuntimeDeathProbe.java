package io.ironruntime.agent;

import io.ironruntime.config.RouterConfigReader;
import java.nio.file.Path;
import java.util.List;

/**
 * A separate JVM for {@link ParentDeathTest}: an {@link AgentRuntime} runs the agent script given as its
 * argument (which starts a child of its own and prints "child &lt;pid&gt;"); prints "agent &lt;pid&gt;"
 * and the child's line, then waits to be killed.
 */
public final class RuntimeDeathProbe {
    private RuntimeDeathProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        String python = args[1];
        AgentRuntime rt = new AgentRuntime(new RuntimeConfig(RouterConfigReader.fromJson(
                "{\"provider_key\":\"sk-test-probe-0123456789\",\"persist\":false}"), null, null, python, false));
        AgentHandle h = rt.startAgent(new AgentSpec(Path.of(args[0]), List.of(), null, Scripts.environment(), null,
                null, null, null, null));
        System.out.println("agent " + h.pid());
        Scripts.eventually("the agent's child", () -> rt.logs(h.agentId(), 10).contains("child "));
        System.out.println(rt.logs(h.agentId(), 10).strip());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
