package io.ironruntime.agent;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.router.AgentControl;
import java.util.List;
import java.util.function.Consumer;

/** A runtime's agents as the router's REST endpoints see them (the router does not know this package). */
final class RuntimeControl implements AgentControl {
    private final AgentRuntime runtime;

    RuntimeControl(AgentRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public List<ObjectNode> agents() {
        return runtime.ownAgents();
    }

    @Override
    public ObjectNode agent(String agentId) {
        SupervisedAgent a = runtime.find(agentId);
        return a == null ? null : a.metrics();
    }

    @Override
    public ObjectNode pause(String agentId) {
        return act(agentId, SupervisedAgent::pause);
    }

    @Override
    public ObjectNode resume(String agentId) {
        return act(agentId, SupervisedAgent::resume);
    }

    @Override
    public ObjectNode stop(String agentId) {
        return act(agentId, runtime::stopLater);
    }

    private ObjectNode act(String agentId, Consumer<SupervisedAgent> action) {
        SupervisedAgent a = runtime.find(agentId);
        if (a == null) {
            return null;
        }
        try {
            action.accept(a);
        } catch (AgentStateException e) {
            throw new StateConflict(e.getMessage());
        }
        return a.metrics();
    }
}
