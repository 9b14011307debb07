package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.AdminClient;
import io.ironruntime.admin.AdminRoutes;
import io.ironruntime.config.RouterConfigReader;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every admin route the router registers answers 401 without its token or with a wrong one: the
 * routes are read from {@link AdminRoutes}, so an endpoint added later is covered without a change here.
 */
class AdminTokenTest {
    /** Routes anyone on the machine may read: pages that hold no data. Add one here only deliberately. */
    private static final Set<String> PUBLIC = Set.of("GET /iron/dashboard");

    private LlmRouter router;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
    }

    @Test
    void everyAdminRouteNeedsTheToken() {
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-test\",\"persist\":false}"));
        router.start();
        AdminClient client = new AdminClient(router);
        String token = router.config().adminToken();
        Set<String> seen = new TreeSet<>();
        Set<String> publicSeen = new TreeSet<>();
        for (AdminRoutes.Route route : router.adminRoutes().routes()) {
            String name = route.method() + " " + route.pattern();
            if (route.isPublic()) {
                publicSeen.add(name);
                continue;
            }
            seen.add(name);
            String path = route.pattern().replaceAll("\\{[^}]+}", "agent_0123");
            String m = route.method();
            expect401(name + " without a token", client.send(m, path));
            expect401(name + " with a wrong bearer token", client.send(m, path, "Authorization", "Bearer wrong-" + token));
            expect401(name + " with a wrong x-api-key", client.send(m, path, "x-api-key", "wrong"));
            expect401(name + " with the token of the query and an empty header",
                    client.send(m, path + "?token=nope", "Authorization", "Bearer "));
            if (m.equals("GET")) {
                expect401(name + " with a wrong ?token=", client.send(m, path + "?token=wrong"));
            } else {
                expect401(name + " with the right token in the URL (only a GET takes it there)",
                        client.send(m, path + "?token=" + token));
            }
        }
        assertEquals(PUBLIC, publicSeen, "public admin routes");
        assertTrue(seen.containsAll(Set.of("GET /metrics", "GET /iron/metrics", "GET /iron/api/status",
                "GET /iron/api/agents", "POST /iron/api/agents/{agent_id}/pause", "POST /iron/api/agents/{agent_id}/resume",
                "POST /iron/api/agents/{agent_id}/stop", "GET /iron/api/events")), seen.toString());
    }

    private static void expect401(String what, AdminClient.Reply r) {
        assertEquals(401, r.status(), what + ": " + r.body());
        assertEquals("invalid_api_key", r.errorCode(), what);
    }
}
