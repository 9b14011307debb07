package io.ironruntime.router;

import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.AdminRoutes;
import io.ironruntime.admin.AdminWorkers;
import io.ironruntime.provider.Provider;
import io.ironruntime.telemetry.StatusReport;

/**
 * The JSON endpoints under {@code /iron/api/}, behind the admin token. They read the database or wait
 * for its writer, so they run on the admin workers, never on an I/O thread.
 */
final class RestApi {
    static final String STATUS = "/iron/api/status";
    static final String EVENTS = "/iron/api/events";

    private RestApi() {
    }

    static void register(AdminRoutes routes, AdminWorkers workers, LlmRouter router, AgentsApi agents) {
        routes.add("GET", STATUS, workers.offload(r -> AdminReply.ok(StatusReport.of(facts(router), router.metrics(),
                agents.all(), System.currentTimeMillis()))));
        routes.add("GET", AgentsApi.PATH, workers.offload(agents::list));
        routes.add("POST", AgentsApi.PATH + "/{agent_id}/pause", workers.offload(agents::pause));
        routes.add("POST", AgentsApi.PATH + "/{agent_id}/resume", workers.offload(agents::resume));
        routes.add("POST", AgentsApi.PATH + "/{agent_id}/stop", workers.offload(agents::stop));
        routes.add("GET", EVENTS, workers.offload(new EventsApi(router)::list));
    }

    private static StatusReport.RouterFacts facts(LlmRouter router) {
        Provider p = router.config().primaryProvider();
        return new StatusReport.RouterFacts(router.config().keyMode().wireName(), router.config().host(), router.port(),
                router.baseUrl(), p == null ? null : p.wireName(), router.isRunning(), router.startedAtMs());
    }
}
