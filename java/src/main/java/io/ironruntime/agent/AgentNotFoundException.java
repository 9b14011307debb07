package io.ironruntime.agent;

/** No agent of the runtime has this id. */
public final class AgentNotFoundException extends RuntimeException {
    public AgentNotFoundException(String agentId) {
        super("no agent '" + agentId + "' in this runtime: see list_agents() for the ids it knows");
    }
}
