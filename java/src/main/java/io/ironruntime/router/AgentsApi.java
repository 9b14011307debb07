package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.AdminRequest;
import io.ironruntime.state.LedgerStore;
import io.ironruntime.telemetry.RecordedAgents;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * {@code /iron/api/agents} and its actions: the agents of the runtimes attached to the router, and the
 * ones its database remembers (ended, or of runtimes in other processes), newest first. Only an
 * attached runtime's agents can be paused, resumed or stopped.
 */
final class AgentsApi {
    static final String PATH = "/iron/api/agents";

    private final List<AgentControl> controls = new CopyOnWriteArrayList<>();
    private final Supplier<LedgerStore> store;

    AgentsApi(Supplier<LedgerStore> store) {
        this.store = store;
    }

    void attach(AgentControl control) {
        controls.add(control);
    }

    void detach(AgentControl control) {
        controls.remove(control);
    }

    AdminReply list(AdminRequest r) throws SQLException {
        ObjectNode o = Json.MAPPER.createObjectNode();
        all().forEach(o.putArray("agents")::add);
        return AdminReply.ok(o);
    }

    /** Every agent, live ones as their runtime shows them, newest first. */
    List<ObjectNode> all() throws SQLException {
        List<ObjectNode> out = new ArrayList<>();
        for (AgentControl c : controls) {
            out.addAll(c.agents());
        }
        LedgerStore db = store.get();
        if (db != null) {
            Set<String> live = new HashSet<>();
            out.forEach(a -> live.add(a.path("agent_id").asText()));
            out.addAll(RecordedAgents.list(db, live));
        }
        // Stable: agents started in the same millisecond keep their runtime's order (newest first).
        out.sort(Comparator.comparingDouble((ObjectNode a) -> a.path("started_at").asDouble()).reversed());
        return out;
    }

    AdminReply pause(AdminRequest r) throws SQLException {
        return act(r, AgentControl::pause, "paused");
    }

    AdminReply resume(AdminRequest r) throws SQLException {
        return act(r, AgentControl::resume, "resumed");
    }

    /** Answers at once with the agent {@code stopping}: the stop itself may take the whole stop timeout. */
    AdminReply stop(AdminRequest r) throws SQLException {
        return act(r, AgentControl::stop, "stopped");
    }

    private AdminReply act(AdminRequest r, BiFunction<AgentControl, String, ObjectNode> action, String verb)
            throws SQLException {
        String id = r.pathParam("agent_id");
        for (AgentControl c : controls) {
            try {
                ObjectNode agent = action.apply(c, id);
                if (agent != null) {
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    o.set("agent", agent);
                    return AdminReply.ok(o);
                }
            } catch (AgentControl.StateConflict e) {
                return AdminReply.error(409, "agent_state", e.getMessage());
            }
        }
        LedgerStore db = store.get();
        ObjectNode recorded = db == null ? null : RecordedAgents.one(db, id);
        if (recorded != null) {
            return AdminReply.error(409, "agent_state", "agent " + id + " is " + recorded.path("status").asText()
                    + " and belongs to runtime " + recorded.path("runtime_id").asText() + ", which does not run it"
                    + " here: only the agents of a runtime attached to this router can be " + verb);
        }
        return AdminReply.error(404, "agent_not_found", "No agent '" + RequestStages.printable(id)
                + "' here: GET " + PATH + " lists the agents and their ids");
    }
}
