package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.ProviderErrors;
import io.ironruntime.provider.SseEvent;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Future;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.EndpointDetails;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.BasicEntityDetails;
import org.apache.hc.core5.http.message.BasicHttpResponse;
import org.apache.hc.core5.http.nio.AsyncResponseConsumer;
import org.apache.hc.core5.http.nio.AsyncServerExchangeHandler;
import org.apache.hc.core5.http.nio.CapacityChannel;
import org.apache.hc.core5.http.nio.DataStreamChannel;
import org.apache.hc.core5.http.nio.ResponseChannel;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.http.protocol.HttpCoreContext;

/**
 * One client exchange, from the request head to the last byte of the response. Runs on two reactor
 * threads (the server's, facing the client, and the client's, facing the provider); every shared field
 * is guarded by {@code this}. The response side never buffers a stream: at most {@link #WINDOW} bytes
 * wait for the client before the upstream is told to pause (HttpCore capacity channels).
 */
final class ProxyExchange implements AsyncServerExchangeHandler {
    /** Bytes the upstream may have in flight towards a slow client before reading pauses. */
    static final int WINDOW = 64 * 1024;

    private final RouterContext router;
    private final long startNanos = System.nanoTime();

    // Client side.
    private ResponseChannel responseChannel;
    private HttpContext serverContext;
    private SocketAddress clientAddress;
    private DataStreamChannel clientChannel;
    private ProxyRequest request;
    private ErrorReply rejection;
    private BodyBuffer body;

    // Output queue towards the client.
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    private int pendingBytes;
    private boolean outputEnd;
    private boolean endSent;
    private boolean abortOutput;
    private boolean headSent;
    private boolean finished;

    // Upstream side.
    private Future<Void> upstreamCall;
    /** The client context of the provider call: HttpClient records the connection in it. */
    private final HttpClientContext upstreamContext = HttpClientContext.create();
    private CapacityChannel upstreamCapacity;
    private int upstreamCredit;
    private ResponseRelay relay;
    /** Rewrites the response for PII; null when responses are not scanned. */
    private ResponsePii responsePii;
    /** Set when a gzip body is unpacked for the PII check (and sent on plain). */
    private GzipBody gzip;
    private HttpResponse deferredHead;
    private EntityDetails deferredEntity;
    private boolean upstreamDone;

    ProxyExchange(RouterContext router) {
        this.router = router;
    }

    // ---- request head and body (server reactor) -------------------------------------------------

    @Override
    public synchronized void handleRequest(HttpRequest head, EntityDetails entity, ResponseChannel channel,
            HttpContext context) throws HttpException, IOException {
        this.responseChannel = channel;
        this.serverContext = context;
        EndpointDetails endpoint = HttpCoreContext.cast(context).getEndpointDetails();
        this.clientAddress = endpoint == null ? null : endpoint.getRemoteAddress();
        router.stats.requests.increment();
        router.stats.inFlight.incrementAndGet();
        long declared = entity == null ? 0 : entity.getContentLength();
        this.request = new ProxyRequest(router.ids.next(), head, declared);
        this.rejection = RequestStages.run(router.stages.head, request);
        if (entity == null) {
            onRequestComplete();
        } else if (rejection == null) {
            body = new BodyBuffer(declared > 0 ? (int) Math.min(declared, 1 << 20) : 1024);
        }
    }

    @Override
    public void updateCapacity(CapacityChannel capacityChannel) throws IOException {
        // Request bodies are read in full (bounded by max_request_bytes; oversize bytes are discarded).
        capacityChannel.update(Integer.MAX_VALUE);
    }

    @Override
    public synchronized void consume(ByteBuffer src) {
        if (rejection != null || body == null) {
            src.position(src.limit());
            return;
        }
        if ((long) body.size() + src.remaining() > router.config.maxRequestBytes()) {
            rejection = RequestStages.tooLarge(router.config.maxRequestBytes());
            body = null;
            src.position(src.limit());
            return;
        }
        body.append(src);
    }

    @Override
    public synchronized void streamEnd(List<? extends Header> trailers) throws HttpException, IOException {
        onRequestComplete();
    }

    private void onRequestComplete() throws HttpException, IOException {
        if (rejection != null) {
            respondError(rejection);
            return;
        }
        if (request.route.kind() == Route.Kind.HEALTH) {
            respond(200, router.health.json(), ContentType.APPLICATION_JSON);
            return;
        }
        request.body = body == null ? null : body.toByteArray();
        body = null;
        ErrorReply reply = RequestStages.run(router.stages.body, request);
        if (reply != null) {
            respondError(reply);
            return;
        }
        router.stats.proxied.increment();
        router.hangups.waitingForUpstream(clientAddress, this);
        try {
            upstreamCall = router.upstream.execute(UpstreamRequests.producer(request, router.config),
                    new UpstreamResponse(), upstreamContext);
        } catch (RuntimeException e) {
            failUpstream(e); // e.g. the client was shut down by a concurrent stop()
        }
    }

    // ---- response towards the client (server reactor) -------------------------------------------

    @Override
    public synchronized int available() {
        if (pendingBytes > 0) {
            return pendingBytes;
        }
        return (outputEnd && !endSent) || abortOutput ? 1 : 0;
    }

    @Override
    public synchronized void produce(DataStreamChannel channel) throws IOException {
        clientChannel = channel;
        if (abortOutput) {
            // A non-event body broke off upstream: dropping the connection is the only honest signal.
            throw new IOException("upstream response broke off");
        }
        while (!pending.isEmpty()) {
            ByteBuffer buf = pending.peek();
            pendingBytes -= channel.write(buf);
            if (buf.hasRemaining()) {
                break;
            }
            pending.poll();
        }
        if (pending.isEmpty() && outputEnd && !endSent) {
            endSent = true;
            channel.endStream(null);
            finish();
        }
        grantUpstreamCapacity();
    }

    @Override
    public void failed(Exception cause) {
        // The client went away or its connection failed.
        Future<Void> call;
        synchronized (this) {
            if (!finished) {
                router.stats.clientAborts.increment();
            }
            finish();
            call = takeUpstreamToCancel();
        }
        cancel(call);
    }

    @Override
    public void releaseResources() {
        Future<Void> call;
        synchronized (this) {
            finish();
            call = takeUpstreamToCancel();
        }
        cancel(call);
    }

    private void endCharge(boolean complete, int statusIfNoHead, String outcome) {
        if (request != null && request.charge != null) {
            request.charge.end(complete, statusIfNoHead, outcome);
        }
    }

    private void respondError(ErrorReply reply) throws HttpException, IOException {
        router.stats.rejected.increment();
        router.stats.errors.increment();
        respond(reply.status(), ProviderErrors.body(request.provider(), reply), ContentType.APPLICATION_JSON);
    }

    private void respond(int status, byte[] bytes, ContentType type) throws HttpException, IOException {
        BasicHttpResponse response = new BasicHttpResponse(status);
        response.addHeader(RouterContext.REQUEST_ID_HEADER, request.id);
        response.addHeader("Content-Type", type.toString());
        if (status >= 400 && status < 500) {
            response.addHeader("x-should-retry", "false"); // the SDKs would otherwise retry 408/409/429
        }
        headSent = true;
        responseChannel.sendResponse(response, new BasicEntityDetails(bytes.length, type), serverContext);
        enqueue(ByteBuffer.wrap(bytes));
        endOutput();
    }

    private void enqueue(ByteBuffer buf) {
        if (buf.hasRemaining()) {
            pendingBytes += buf.remaining();
            pending.add(buf);
        }
    }

    private void endOutput() {
        outputEnd = true;
        wakeClient();
    }

    private void wakeClient() {
        if (clientChannel != null) {
            clientChannel.requestOutput();
        }
    }

    private void grantUpstreamCapacity() throws IOException {
        if (upstreamCapacity == null || upstreamDone) {
            return;
        }
        // Credit mirrors HttpCore's input window, which may go negative (it delivers what it already
        // read even past the window), so a grant must also cover that debt to reopen reading.
        int free = WINDOW - pendingBytes - upstreamCredit;
        if (free >= WINDOW / 4) {
            upstreamCredit += free;
            upstreamCapacity.update(free);
        }
    }

    private Future<Void> takeUpstreamToCancel() {
        if (upstreamCall == null || upstreamDone) {
            return null;
        }
        upstreamDone = true;
        return upstreamCall;
    }

    /** Called without holding this exchange's lock: cancelling re-enters HttpCore, which may call back. */
    private void cancel(Future<Void> call) {
        if (call != null) {
            router.upstream.abandon(call, upstreamContext);
        }
    }

    private void finish() {
        if (!finished) {
            finished = true;
            // A charge still open here means the client left before the upstream was done.
            endCharge(false, 499, "client_disconnected");
            router.hangups.doneWaiting(clientAddress, this);
            router.stats.inFlight.decrementAndGet();
        }
    }

    private void sendHead(HttpResponse upstream, EntityDetails upstreamEntity, long length) throws HttpException, IOException {
        if (upstream.getCode() >= 400) {
            router.stats.errors.increment();
        }
        BasicHttpResponse response = new BasicHttpResponse(upstream.getCode(), upstream.getReasonPhrase());
        for (Header h : upstream.getHeaders()) {
            if (!HeaderPolicy.dropFromResponse(h.getName()) && !(gzip != null && h.getName().equalsIgnoreCase("Content-Encoding"))) {
                response.addHeader(h);
            }
        }
        response.setHeader(RouterContext.REQUEST_ID_HEADER, request.id);
        headSent = true;
        router.hangups.doneWaiting(clientAddress, this); // from here on, HttpCore reports a hang-up itself
        EntityDetails entity = upstreamEntity == null ? null
                : new BasicEntityDetails(length, ContentType.parseLenient(upstreamEntity.getContentType()));
        responseChannel.sendResponse(response, entity, serverContext);
    }

    private void failUpstream(Exception cause) throws HttpException, IOException {
        upstreamDone = true;
        router.stats.upstreamFailures.increment();
        if (!headSent) {
            deferredHead = null;
            ErrorReply reply = UpstreamFailures.reply(cause, router.config.origin(request.provider()));
            endCharge(false, reply.status(), "upstream_failed");
            respondError(reply);
            return;
        }
        endCharge(false, 502, "upstream_failed");
        router.stats.errors.increment();
        if (relay != null && relay.shape() == ResponseRelay.Shape.SSE) {
            try {
                relay.abandon(this::enqueue);
            } catch (ResponsePii.Refused ignored) {
                // the stream ends with the upstream error event below either way
            }
            SseEvent error = ProviderErrors.streamEvent(request.provider(),
                    UpstreamFailures.midStream(cause, request.provider()));
            enqueue(ByteBuffer.wrap(error.raw()));
            endOutput();
            return;
        }
        abortOutput = true;
        wakeClient();
    }

    /**
     * The PII guard withheld the rest of the response (block mode) or could not check it: a body not
     * yet sent becomes an error response; a stream ends with an error event. The provider call is
     * dropped by the caller; the request is charged for what was produced.
     */
    private void cutResponse(ResponsePii.Refused r) throws HttpException, IOException {
        upstreamDone = true;
        String outcome = r.blocked ? "pii_blocked" : "pii_failed";
        if (!headSent) {
            deferredHead = null;
            endCharge(true, 0, outcome);
            respondError(r.reply);
            return;
        }
        endCharge(false, 0, outcome);
        router.stats.errors.increment();
        enqueue(ByteBuffer.wrap(ProviderErrors.streamEvent(request.provider(), r.reply).raw()));
        endOutput();
    }

    /** Receives the provider's response on the client reactor and feeds the queue towards the client. */
    private final class UpstreamResponse implements AsyncResponseConsumer<Void>, ResponseRelay.Tap {
        private FutureCallback<Void> resultCallback;

        @Override
        public void consumeResponse(HttpResponse response, EntityDetails entity, HttpContext context,
                FutureCallback<Void> callback) throws HttpException, IOException {
            synchronized (ProxyExchange.this) {
                resultCallback = callback;
                upstreamCredit = Http1Config.DEFAULT.getInitialWindowSize(); // HttpCore's window for a new message
                if (finished) {
                    return;
                }
                if (request.charge != null) {
                    request.charge.responseHead(response.getCode());
                }
                if (entity == null) {
                    upstreamDone = true;
                    endCharge(true, 0, "completed");
                    sendHead(response, null, 0);
                    complete();
                    return;
                }
                relay = ResponseRelay.of(ResponseRelay.shapeOf(entity.getContentType(), entity.getContentEncoding()), this);
                responsePii = router.pii == null ? null : router.pii.forResponse(request);
                if (responsePii != null && relay.shape() == ResponseRelay.Shape.RAW) {
                    if (GzipBody.readable(entity.getContentEncoding(), entity.getContentType())) {
                        // Compressed despite our Accept-Encoding: a gzip JSON body is unpacked, checked and sent plain.
                        gzip = new GzipBody(ResponseRelay.MAX_COLLECTED_BODY);
                        relay = ResponseRelay.of(ResponseRelay.Shape.JSON, this);
                    } else if (ResponseRelay.encoded(entity.getContentEncoding())) {
                        endCharge(false, 0, "pii_failed"); // nothing of it read: charged as a cut-short response
                        cutResponse(responsePii.unreadable(entity.getContentEncoding()));
                        return;
                    } else {
                        responsePii = null; // audio, images, files: no text to check
                    }
                }
                if (relay.holdsHead()) {
                    deferredHead = response; // sent with the exact length once the whole body is in
                    deferredEntity = entity;
                } else {
                    long length = relay.shape() == ResponseRelay.Shape.RAW ? entity.getContentLength() : -1;
                    sendHead(response, entity, length);
                }
            }
        }

        @Override
        public void informationResponse(HttpResponse response, HttpContext context) {
        }

        @Override
        public void updateCapacity(CapacityChannel capacityChannel) throws IOException {
            synchronized (ProxyExchange.this) {
                upstreamCapacity = capacityChannel;
                grantUpstreamCapacity();
            }
        }

        @Override
        public void consume(ByteBuffer src) throws IOException {
            synchronized (ProxyExchange.this) {
                upstreamCredit -= src.remaining();
                if (finished) {
                    // The client is gone: failing here makes HttpCore drop the provider connection.
                    throw new IOException("client disconnected");
                }
                if (upstreamDone) {
                    throw new IOException("response withheld"); // cut by the PII guard: drop the provider connection
                }
                try {
                    relay.accept(src, ProxyExchange.this::enqueue);
                } catch (ResponsePii.Refused r) {
                    try {
                        cutResponse(r);
                    } catch (HttpException e) {
                        throw new IOException(e);
                    }
                    throw new IOException("response withheld: " + r.reply.code());
                }
                if (deferredHead != null && !relay.holdsHead()) {
                    try {
                        sendHead(deferredHead, deferredEntity, -1);
                    } catch (HttpException e) {
                        throw new IOException(e);
                    }
                    deferredHead = null;
                }
                if (pendingBytes > 0) {
                    wakeClient();
                }
                if (relay.holdsHead()) {
                    grantUpstreamCapacity(); // collected, not queued: keep reading
                }
            }
        }

        @Override
        public void streamEnd(List<? extends Header> trailers) throws HttpException, IOException {
            synchronized (ProxyExchange.this) {
                upstreamDone = true;
                if (!finished) {
                    try {
                        relay.finish(ProxyExchange.this::enqueue);
                        endCharge(true, 0, "completed");
                        if (deferredHead != null) {
                            sendHead(deferredHead, deferredEntity, pendingBytes);
                            deferredHead = null;
                        }
                        endOutput();
                    } catch (ResponsePii.Refused r) {
                        cutResponse(r);
                    }
                }
                complete();
            }
        }

        @Override
        public void failed(Exception cause) {
            synchronized (ProxyExchange.this) {
                if (!finished && !upstreamDone) {
                    try {
                        failUpstream(cause);
                    } catch (HttpException | IOException e) {
                        abortOutput = true;
                        wakeClient();
                    }
                }
                upstreamDone = true;
                if (resultCallback != null) {
                    resultCallback.failed(cause);
                }
            }
        }

        @Override
        public void releaseResources() {
        }

        private void complete() {
            if (resultCallback != null) {
                resultCallback.completed(null);
            }
        }

        @Override
        public void onEvent(SseEvent event, java.util.function.Consumer<SseEvent> out) {
            router.stats.streamEvents.increment();
            router.observer.onEvent(event);
            SseEvent metered = request.charge == null ? event : request.charge.meter.onEvent(event);
            if (metered == null) {
                return;
            }
            if (responsePii == null) {
                out.accept(metered);
            } else {
                // The meter parsed the event already; its tree serves when it forwarded the event as it was.
                JsonNode parsed = request.charge != null && metered == event ? request.charge.meter.lastParsed() : null;
                responsePii.onEvent(metered, parsed, out);
            }
        }

        @Override
        public byte[] onBody(byte[] body) {
            byte[] json = body;
            if (gzip != null) {
                json = gzip.unpack(body);
                if (json == null) {
                    throw responsePii.unreadable("gzip (corrupt or larger than " + ResponseRelay.MAX_COLLECTED_BODY + " bytes unpacked)");
                }
            }
            router.observer.onBody(json);
            if (request.charge != null) {
                request.charge.meter.onBody(json);
            }
            return responsePii == null ? json : responsePii.onBody(json);
        }

        @Override
        public void onEnd(java.util.function.Consumer<SseEvent> out) {
            if (responsePii != null) {
                responsePii.onStreamEnd(out);
            }
        }
    }

    /** Growable request-body buffer. */
    static final class BodyBuffer {
        private byte[] bytes;
        private int size;

        BodyBuffer(int initial) {
            bytes = new byte[Math.max(initial, 16)];
        }

        void append(ByteBuffer src) {
            int n = src.remaining();
            if (size + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + n));
            }
            src.get(bytes, size, n);
            size += n;
        }

        int size() {
            return size;
        }

        byte[] toByteArray() {
            return size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
        }
    }

}
