package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.config.RouterConfigReader;
import io.ironruntime.telemetry.DashboardPage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code GET /iron/dashboard} on a real router: public (the page holds no data) and signed in by its link. */
class DashboardEndpointTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private LlmRouter router;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
    }

    @Test
    void thePageIsServedWithoutTheTokenAndTheDataIsNot() throws Exception {
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-test\",\"persist\":false}"));
        router.start();
        String origin = "http://127.0.0.1:" + router.port();
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(origin + "/iron/dashboard")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode());
        assertEquals("text/html; charset=utf-8", page.headers().firstValue("Content-Type").orElse(""));
        assertEquals(DashboardPage.get().contentSecurityPolicy(),
                page.headers().firstValue("Content-Security-Policy").orElse(""));
        assertEquals(DashboardPage.get().html(), page.body());
        assertTrue(page.headers().firstValue("x-iron-request-id").isPresent());
        assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(origin + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode(), "the page is public, the numbers are not");

        assertEquals(origin + "/iron/dashboard#token=" + router.config().adminToken(), router.dashboardUrl());
        assertEquals(origin + "/v1", router.baseUrl());
    }
}
