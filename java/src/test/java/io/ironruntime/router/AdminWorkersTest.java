package io.ironruntime.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ironruntime.AdminClient;
import io.ironruntime.admin.AdminHandler;
import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.AdminRequest;
import io.ironruntime.admin.AdminWorkers;
import io.ironruntime.config.RouterConfigReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Admin handlers run on worker threads, their replies sent when ready: through a real router. */
class AdminWorkersTest {
    private LlmRouter router;
    private AdminWorkers workers;

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
        if (workers != null) {
            workers.close();
        }
    }

    private AdminClient start() {
        router = new LlmRouter(RouterConfigReader.fromJson("{\"provider_key\":\"sk-test\",\"persist\":false}"));
        workers = new AdminWorkers("test-admin");
        return new AdminClient(router);
    }

    @Test
    void anOffloadedHandlerRunsOnAWorkerAndItsReplyComesLater() throws Exception {
        AdminClient client = start();
        AtomicReference<String> io = new AtomicReference<>();
        AtomicReference<String> worker = new AtomicReference<>();
        router.adminRoutes().add("GET", "/iron/test/io", r -> {
            io.set(Thread.currentThread().getName());
            return AdminReply.text(200, "text/plain", "io");
        });
        router.adminRoutes().add("GET", "/iron/test/worker/{n}", workers.offload(r -> {
            worker.set(Thread.currentThread().getName());
            Thread.sleep(200); // an I/O thread would hold up every request it serves meanwhile
            return AdminReply.text(201, "text/plain", "worker " + r.pathParam("n")).withHeader("X-Test", "yes");
        }));
        router.start();
        assertEquals(200, client.get("/iron/test/io").status());
        AdminClient.Reply r = client.get("/iron/test/worker/7");
        assertEquals(201, r.status());
        assertEquals("worker 7", r.body());
        assertEquals("test-admin", worker.get());
        assertNotEquals(io.get(), worker.get());
        AdminClient.Reply head = client.send("HEAD", "/iron/test/worker/8", "Authorization", "Bearer "
                + router.config().adminToken());
        assertEquals(201, head.status());
        assertEquals("", head.body());
    }

    @Test
    void anOffloadedHandlersExceptionIsAnsweredLikeAnyHandlers() throws Exception {
        AdminClient client = start();
        router.adminRoutes().add("GET", "/iron/test/bad", workers.offload(r -> {
            throw new IllegalArgumentException("n must be a number");
        }));
        router.adminRoutes().add("GET", "/iron/test/broken", workers.offload(r -> {
            throw new java.sql.SQLException("disk I/O error at /secret/path");
        }));
        router.start();
        AdminClient.Reply bad = client.get("/iron/test/bad");
        assertEquals(400, bad.status());
        assertEquals("n must be a number", bad.errorMessage());
        AdminClient.Reply broken = client.get("/iron/test/broken");
        assertEquals(500, broken.status());
        assertEquals("internal_error", broken.errorCode());
        assertTrue(broken.errorMessage().contains("SQLException"), broken.errorMessage());
        assertTrue(!broken.body().contains("/secret/path"), "only the class of an unexpected failure is shown");
    }

    @Test
    void aFullQueueIsAnswered503AtOnce() throws Exception {
        workers = new AdminWorkers("test-admin");
        CountDownLatch release = new CountDownLatch(1);
        AdminHandler blocked = workers.offload(r -> {
            release.await(30, TimeUnit.SECONDS);
            return AdminReply.text(200, "text/plain", "done");
        });
        AdminRequest req = new AdminRequest("GET", "/x", Map.of(), Map.of(), null, Map.of(), "req_1");
        List<AdminReply> queued = new ArrayList<>();
        AdminReply refused = null;
        for (int i = 0; i < 1_000 && refused == null; i++) {
            AdminReply r = blocked.handle(req);
            if (r.later() == null) {
                refused = r;
            } else {
                queued.add(r);
            }
        }
        assertNotNull(refused, "the queue never filled");
        assertEquals(503, refused.status());
        assertEquals("1", refused.headers().get("Retry-After"));
        assertTrue(queued.size() >= 256, "queued " + queued.size());
        release.countDown();
        for (AdminReply r : queued) {
            assertEquals(200, r.later().toCompletableFuture().get(30, TimeUnit.SECONDS).status());
        }
        workers.close();
        AdminReply closed = blocked.handle(req);
        assertNull(closed.later());
        assertEquals(503, closed.status());
    }
}
