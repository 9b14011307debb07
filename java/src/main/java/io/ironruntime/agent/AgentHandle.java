package io.ironruntime.agent;

/** What {@link AgentRuntime#startAgent} returns: the agent's id and a live view of its process. */
public final class AgentHandle {
    private final SupervisedAgent agent;

    AgentHandle(SupervisedAgent agent) {
        this.agent = agent;
    }

    /** {@code agent_<uuid>}: the id every other call of the runtime takes. */
    public String agentId() {
        return agent.id;
    }

    /** The pid of the agent's current process (its process group id too), or null between runs. */
    public Long pid() {
        return agent.currentPid();
    }

    public AgentStatus status() {
        return agent.status();
    }

    @Override
    public String toString() {
        return agent.id;
    }
}
