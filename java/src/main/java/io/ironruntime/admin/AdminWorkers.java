package io.ironruntime.admin;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Threads for admin endpoints that read the database or wait for its writer: the server has one I/O
 * thread per core, and a handler that waits on one holds up every proxied request it serves. Their
 * threads end when idle, so a router that nobody asks costs no thread; a full queue is answered 503.
 */
public final class AdminWorkers implements AutoCloseable {
    static final int THREADS = 2;
    /** Requests waiting for a worker; beyond this a client is asking faster than the database answers. */
    static final int QUEUE = 256;

    private final ThreadPoolExecutor pool;

    public AdminWorkers(String threadName) {
        pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true); // an embedded JVM must be able to exit
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    /** {@code handler} run on a worker: the I/O thread only queues it and answers when it is done. */
    public AdminHandler offload(AdminHandler handler) {
        return request -> {
            CompletableFuture<AdminReply> reply = new CompletableFuture<>();
            try {
                pool.execute(() -> {
                    try {
                        reply.complete(handler.handle(request));
                    } catch (Throwable e) {
                        reply.completeExceptionally(e);
                    }
                });
            } catch (RejectedExecutionException e) {
                return AdminReply.error(503, "admin_busy", pool.isShutdown() ? "The router is closed"
                        : "The router's admin endpoints have " + QUEUE + " requests waiting; retry shortly")
                        .withHeader("Retry-After", "1");
            }
            return AdminReply.later(reply);
        };
    }

    /** Lets queued work finish on its own; takes no more. */
    @Override
    public void close() {
        pool.shutdown();
    }
}
