package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What the router's REST endpoints may see and do of an agent runtime attached to it
 * ({@link LlmRouter#attachAgentControl}): the router serves the endpoints without knowing the runtime.
 * Agents appear as {@code get_metrics} shows them. The actions return quickly: they run on the
 * router's admin threads.
 */
public interface AgentControl {
    /** The agents this runtime started, newest first (not the ones the database remembers from others). */
    List<ObjectNode> agents();

    /** One of them, or null when the id is not one of this runtime's agents. */
    ObjectNode agent(String agentId);

    /**
     * Freezes the agent's process group; returns the agent after, or null when the id is not this runtime's.
     *
     * @throws StateConflict when the agent is not running
     */
    ObjectNode pause(String agentId);

    /** Lets a paused agent go on; as {@link #pause}. */
    ObjectNode resume(String agentId);

    /**
     * Starts stopping the agent and returns at once, with the agent as it is then (status
     * {@code stopping}); the SIGTERM, and the SIGKILL after the runtime's stop timeout, follow on a
     * thread of the runtime. Null when the id is not this runtime's.
     *
     * @throws StateConflict when the agent is stopping or has ended
     */
    ObjectNode stop(String agentId);

    /** The agent's state does not allow the action (pausing a stopped agent, stopping it twice). */
    final class StateConflict extends RuntimeException {
        public StateConflict(String message) {
            super(message);
        }
    }
}
