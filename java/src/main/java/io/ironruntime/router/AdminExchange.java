package io.ironruntime.router;

import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.AdminRequest;
import io.ironruntime.admin.AdminRoutes;
import io.ironruntime.admin.StreamSink;
import io.ironruntime.admin.StreamSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.impl.BasicEntityDetails;
import org.apache.hc.core5.http.message.BasicHttpResponse;
import org.apache.hc.core5.http.nio.AsyncServerExchangeHandler;
import org.apache.hc.core5.http.nio.CapacityChannel;
import org.apache.hc.core5.http.nio.DataStreamChannel;
import org.apache.hc.core5.http.nio.ResponseChannel;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request to the router's own endpoints ({@link AdminRoutes}): the Host check, the admin token,
 * then the handler's reply, whole or streamed. A streamed reply queues at most {@link #STREAM_BOUND}
 * bytes for its client; a client that falls further behind is cut off (the feed counts it), so a slow
 * reader never holds memory or a thread of the router.
 */
final class AdminExchange implements AsyncServerExchangeHandler, StreamSink {
    private static final Logger LOG = LoggerFactory.getLogger(AdminExchange.class);
    /** Admin requests carry a few hundred bytes of JSON at most. */
    static final int MAX_BODY = 64 * 1024;
    /** Bytes a streamed reply may queue for a client that does not read. */
    static final int STREAM_BOUND = 1 << 20;
    /** Query parameter with the admin token, accepted only where a browser cannot send headers (EventSource). */
    static final String TOKEN_PARAM = "token";

    private final AdminRoutes routes;
    private final HostGuard hosts;
    private final ClientAuth auth;
    private final String requestId;

    private HttpRequest head;
    private ResponseChannel responseChannel;
    private HttpContext context;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private boolean tooLarge;

    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    private int pendingBytes;
    private DataStreamChannel channel;
    private boolean outputEnd;
    private boolean endSent;
    private boolean released;
    private StreamSource stream;

    AdminExchange(AdminRoutes routes, HostGuard hosts, ClientAuth auth, String requestId) {
        this.routes = routes;
        this.hosts = hosts;
        this.auth = auth;
        this.requestId = requestId;
    }

    @Override
    public synchronized void handleRequest(HttpRequest request, EntityDetails entity, ResponseChannel channel,
            HttpContext ctx) throws HttpException, IOException {
        this.head = request;
        this.responseChannel = channel;
        this.context = ctx;
        if (entity == null) {
            complete();
        }
    }

    @Override
    public void updateCapacity(CapacityChannel capacityChannel) throws IOException {
        capacityChannel.update(Integer.MAX_VALUE);
    }

    @Override
    public synchronized void consume(ByteBuffer src) {
        if (body.size() + src.remaining() > MAX_BODY) {
            tooLarge = true;
        }
        if (!tooLarge) {
            byte[] b = new byte[src.remaining()];
            src.get(b);
            body.writeBytes(b);
        }
        src.position(src.limit());
    }

    @Override
    public synchronized void streamEnd(List<? extends Header> trailers) throws HttpException, IOException {
        complete();
    }

    private void complete() throws HttpException, IOException {
        send(answer());
    }

    private AdminReply answer() {
        Map.Entry<String, Map<String, String>> split = AdminRequest.splitQuery(head.getPath());
        String path = split.getKey();
        Header hostHeader = head.getFirstHeader("Host");
        if (!hosts.allows(hostHeader == null ? null : hostHeader.getValue())) {
            return AdminReply.error(403, "host_not_allowed", "Host '" + RequestStages.printable(
                    hostHeader.getValue()) + "' is not allowed: this router only serves 127.0.0.1 or localhost");
        }
        String method = head.getMethod().toUpperCase(Locale.ROOT);
        AdminRoutes.Match match = routes.find(method, path);
        if (match.status() == 405) {
            return AdminReply.error(405, "method_not_allowed", method + " is not allowed on " + path
                    + " (allowed: " + match.allowed() + ")").withHeader("Allow", match.allowed());
        }
        if (!match.found()) {
            return AdminReply.error(404, "not_found", "Unknown path " + RequestStages.printable(path));
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header h : head.getHeaders()) {
            headers.putIfAbsent(h.getName().toLowerCase(Locale.ROOT), h.getValue());
        }
        if (!match.isPublic()) {
            AdminReply denied = checkToken(headers, split.getValue(), method);
            if (denied != null) {
                return denied;
            }
        }
        if (tooLarge) {
            return AdminReply.error(413, "request_too_large", "Admin request bodies are limited to " + MAX_BODY + " bytes");
        }
        AdminRequest request = new AdminRequest(method, path, split.getValue(), headers, body.toByteArray(),
                match.pathParams(), requestId);
        try {
            return match.handler().handle(request);
        } catch (Exception e) {
            return failure(method, path, e);
        }
    }

    /** A handler's exception as a reply: its message for bad input (400), only its class otherwise. */
    private static AdminReply failure(String method, String path, Throwable e) {
        if (e instanceof IllegalArgumentException) {
            return AdminReply.error(400, "invalid_request", e.getMessage());
        }
        LOG.warn("admin endpoint {} {} failed ({})", method, path, e.toString());
        return AdminReply.error(500, "internal_error", "The router could not answer " + path + ": "
                + e.getClass().getSimpleName());
    }

    private AdminReply checkToken(Map<String, String> headers, Map<String, String> query, String method) {
        String authorization = headers.get("authorization");
        String apiKey = headers.get("x-api-key");
        String fromQuery = method.equals("GET") ? query.get(TOKEN_PARAM) : null;
        if (auth.accepts(authorization, apiKey) || (fromQuery != null && auth.accepts(null, fromQuery))) {
            return null;
        }
        boolean presented = authorization != null || apiKey != null || fromQuery != null;
        return AdminReply.error(401, "invalid_api_key", presented
                ? "Invalid token: the router's endpoints need its admin token (router.admin_token)"
                : "Missing token: send 'Authorization: Bearer <router.admin_token>'")
                .withHeader("WWW-Authenticate", "Bearer realm=\"iron-runtime\"");
    }

    private void send(AdminReply reply) throws HttpException, IOException {
        if (reply.later() != null) {
            reply.later().whenComplete(this::sendLater);
            return;
        }
        BasicHttpResponse response = new BasicHttpResponse(reply.status());
        response.addHeader(RouterContext.REQUEST_ID_HEADER, requestId);
        response.addHeader("Content-Type", reply.contentType());
        response.addHeader("Cache-Control", "no-store");
        response.addHeader("X-Content-Type-Options", "nosniff");
        reply.headers().forEach(response::addHeader);
        boolean headOnly = head.getMethod().equalsIgnoreCase("HEAD");
        if (reply.stream() != null && !headOnly) {
            response.addHeader("X-Accel-Buffering", "no");
            responseChannel.sendResponse(response, new BasicEntityDetails(-1, null), context);
            stream = reply.stream();
            stream.open(this);
            return;
        }
        byte[] bytes = reply.body() == null ? new byte[0] : reply.body();
        responseChannel.sendResponse(response, new BasicEntityDetails(bytes.length, null), context);
        if (!headOnly) {
            pending.add(ByteBuffer.wrap(bytes));
            pendingBytes += bytes.length;
        }
        outputEnd = true;
        wake();
    }

    /** A deferred reply is ready (on the thread that completed it): sent unless the client left meanwhile. */
    private synchronized void sendLater(AdminReply reply, Throwable failure) {
        if (released) {
            return;
        }
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        try {
            send(cause != null ? failure(head.getMethod(), AdminRequest.splitQuery(head.getPath()).getKey(), cause)
                    : reply);
        } catch (HttpException | IOException | RuntimeException e) {
            LOG.debug("could not send a deferred admin reply ({})", e.toString());
        }
    }

    // ---- StreamSink: called by the feed's thread ----------------------------------------------------

    @Override
    public boolean write(byte[] chunk) {
        boolean overflow;
        synchronized (this) {
            if (released || outputEnd) {
                return false;
            }
            overflow = pendingBytes + chunk.length > STREAM_BOUND;
            if (!overflow) {
                pending.add(ByteBuffer.wrap(chunk));
                pendingBytes += chunk.length;
            } else {
                outputEnd = true; // what is queued still goes out, then the response ends
            }
            wake();
        }
        if (overflow) {
            closeStream();
        }
        return !overflow;
    }

    @Override
    public void end() {
        synchronized (this) {
            outputEnd = true;
            wake();
        }
        closeStream();
    }

    private void wake() {
        if (channel != null) {
            channel.requestOutput();
        }
    }

    // ---- output (server reactor) --------------------------------------------------------------------

    @Override
    public synchronized int available() {
        if (pendingBytes > 0) {
            return pendingBytes;
        }
        return outputEnd && !endSent ? 1 : 0;
    }

    @Override
    public synchronized void produce(DataStreamChannel out) throws IOException {
        channel = out;
        while (!pending.isEmpty()) {
            ByteBuffer buf = pending.peek();
            pendingBytes -= out.write(buf);
            if (buf.hasRemaining()) {
                return;
            }
            pending.poll();
        }
        if (outputEnd && !endSent) {
            endSent = true;
            out.endStream(null);
        }
    }

    @Override
    public void failed(Exception cause) {
        releaseResources();
    }

    @Override
    public void releaseResources() {
        synchronized (this) {
            released = true;
            pending.clear();
            pendingBytes = 0;
        }
        closeStream();
    }

    private void closeStream() {
        StreamSource s;
        synchronized (this) {
            s = stream;
            stream = null;
        }
        if (s != null) {
            s.close();
        }
    }
}
