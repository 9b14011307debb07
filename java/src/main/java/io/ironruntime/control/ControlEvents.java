package io.ironruntime.control;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.events.EngineEvent;
import io.ironruntime.events.EventSink;

/** The engine events of control-server mode. */
final class ControlEvents {
    private ControlEvents() {
    }

    /** {@code control_server_error}: a call failed; the payload never holds the token. */
    static void error(EventSink events, ControlFailure f, Object server) {
        ObjectNode p = Json.MAPPER.createObjectNode();
        p.put("operation", f.operation());
        p.put("status", f.status());
        p.put("code", f.code());
        p.put("message", f.message());
        p.put("server_url", String.valueOf(server));
        events.publish(EngineEvent.of(EngineEvent.CONTROL_SERVER_ERROR, null, null, p));
    }

    static void publish(EventSink events, String type, ObjectNode payload) {
        events.publish(EngineEvent.of(type, null, null, payload));
    }
}
