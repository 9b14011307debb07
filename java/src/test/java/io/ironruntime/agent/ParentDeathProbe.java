package io.ironruntime.agent;

import java.nio.file.Path;

/**
 * A separate JVM for {@link ParentDeathTest}: launches the agent script given as its argument,
 * prints "agent &lt;pid&gt;" and waits to be killed. Also handy by hand against the shaded jar:
 * {@code java -cp target/iron-runtime-0.1.0.jar:target/test-classes io.ironruntime.agent.ParentDeathProbe x.py}.
 */
public final class ParentDeathProbe {
    private ParentDeathProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        AgentProcess agent = AgentLaunch.builder(Path.of(args[0]))
                .python(args.length > 1 ? args[1] : "python3")
                .environment(Scripts.environment())
                .build()
                .start();
        System.out.println("agent " + agent.pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
