package io.ironruntime.agent;

/** The agent is not in a state that allows the operation (pausing a stopped agent, stopping it twice). */
public final class AgentStateException extends RuntimeException {
    public AgentStateException(String message) {
        super(message);
    }
}
