package io.ironruntime.router;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import io.ironruntime.admin.AdminHandler;
import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.AdminRequest;
import io.ironruntime.state.LedgerRow;
import io.ironruntime.state.LedgerStore;
import java.util.List;

/**
 * {@code GET /iron/api/requests?limit=&agent_id=}: the newest settled requests, newest first, with
 * their tokens, cost, PII count and trace. Read from the ledger when the router has a database (every
 * router writing the same file; a row shows once committed, within about 20 ms of the response's end),
 * else from the last {@link RecentRequests#CAPACITY} in memory.
 */
final class RequestsEndpoint implements AdminHandler {
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1_000;

    private final Accounting accounting;

    RequestsEndpoint(Accounting accounting) {
        this.accounting = accounting;
    }

    @Override
    public AdminReply handle(AdminRequest request) throws Exception {
        int limit = limit(request.param("limit"));
        String agentId = request.param("agent_id");
        if (agentId != null && agentId.isBlank()) {
            throw new IllegalArgumentException("agent_id must name an agent (e.g. agent_1) or be left out");
        }
        LedgerStore store = accounting.store();
        List<LedgerRow> rows = store != null ? store.newestRequests(limit, agentId)
                : accounting.recent.newest(limit, agentId);
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode list = out.putArray("requests");
        for (LedgerRow row : rows) {
            ObjectNode o = list.addObject();
            o.put("request_id", row.requestId());
            o.put("timestamp_ms", row.timestampMs());
            o.put("agent_id", row.agentId());
            RequestFacts.write(row, o);
        }
        return AdminReply.ok(out);
    }

    /** The {@code limit} parameter: a whole number from 1 to {@link #MAX_LIMIT}, {@link #DEFAULT_LIMIT} when absent. */
    static int limit(String value) {
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        String shown = RequestStages.printable(value);
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // named below
        }
        throw new IllegalArgumentException("limit must be a whole number from 1 to " + MAX_LIMIT + ", got '" + shown + "'");
    }
}
