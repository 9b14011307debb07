package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.provider.Provider;
import io.ironruntime.provider.ProviderErrors;
import io.ironruntime.provider.SseEvent;
import io.ironruntime.resilience.Backoff;
import io.ironruntime.resilience.CircuitBreaker;
import io.ironruntime.resilience.InFlightGate;
import io.ironruntime.state.LedgerRow;
import org.apache.hc.client5.http.ConnectTimeoutException;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
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
 *
 * <p>The provider side is a series of attempts. Each takes a slot of the in-flight gate (queueing for
 * one up to {@code queue_timeout}), asks the upstream's circuit breaker, and calls the provider with a
 * fresh {@link UpstreamResponse}. Until a response is passed on, a connect failure, a reset before the
 * response, or a 429/5xx/529 answer is retried after a backoff (the provider's Retry-After wins), with
 * the same budget reservation. A watchdog on the router's timer thread enforces the first-byte, idle
 * and total deadlines. Attempts that were given up (retried past, timed out) are no longer
 * {@link #current}: what they still deliver is dropped.
 */
final class ProxyExchange implements AsyncServerExchangeHandler {
    /** Bytes the upstream may have in flight towards a slow client before reading pauses. */
    static final int WINDOW = 64 * 1024;

    private final RouterContext router;
    private final long startNanos = System.nanoTime();
    /** When the whole exchange must be over ({@code total_timeout}). */
    private final long deadline;

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
    private HttpClientContext upstreamContext = HttpClientContext.create();
    /** The attempt whose response counts; null between attempts and after one was given up. */
    private UpstreamResponse current;
    private int attemptsMade;
    private long attemptStart;
    private long lastActivity;
    /** True while this exchange holds a slot of the in-flight gate. */
    private boolean holdsSlot;
    private InFlightGate.Ticket ticket;
    private ScheduledFuture<?> queueTimer;
    private ScheduledFuture<?> retryTimer;
    private ScheduledFuture<?> watchdog;
    private long watchdogAt;
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

    // For Prometheus: the status the client got, and the router's own time around the provider call.
    private int answeredStatus;
    /** The code of the error the router answered itself (for the request log), or null. */
    private String answeredError;
    /** When the request body was complete. */
    private long bodyDoneNanos;
    /** Since when the router works towards the first provider call (after admission, or after a queued slot came). */
    private long preMark;
    /** Router time before the first provider call; -1 until that call starts. */
    private long preNanos = -1;
    /** When the passed-on attempt's last byte arrived; 0 until then. */
    private long upstreamEndNanos;

    ProxyExchange(RouterContext router) {
        this.router = router;
        this.deadline = startNanos + router.resilience.timeouts.total().toNanos();
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
        bodyDoneNanos = System.nanoTime();
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
        runBodyStages(0);
    }

    /**
     * Runs the body stages from {@code from}; a stage that must wait for the control server (a key fetch,
     * a lease) gets this exchange resumed at that stage, on the thread that completes the wait.
     */
    private void runBodyStages(int from) throws HttpException, IOException {
        List<RequestStage> stages = router.stages.body;
        for (int i = from; i < stages.size(); i++) {
            ErrorReply reply = stages.get(i).apply(request);
            if (reply == RequestStages.WAIT) {
                int again = i;
                request.waitFor.whenComplete((v, e) -> resumeStages(again));
                return;
            }
            if (reply != null) {
                respondError(reply);
                return;
            }
        }
        forward();
    }

    private synchronized void resumeStages(int stage) {
        if (finished) {
            cancelCharge();
            return;
        }
        try {
            runBodyStages(stage);
        } catch (HttpException | IOException | RuntimeException e) {
            cancelCharge();
            answer(ErrorReply.unavailable("router_error", "The request could not be resumed: " + e.getClass().getSimpleName()));
        }
    }

    /** Every stage let the request through: to the provider, now or when a slot frees up. */
    private void forward() {
        router.stats.proxied.increment();
        router.hangups.waitingForUpstream(clientAddress, this);
        preMark = System.nanoTime();
        preNanos = preMark - bodyDoneNanos;
        InFlightGate.Ticket queued = router.resilience.gate.enterOrQueue(this::slotGranted);
        if (queued == null) {
            holdsSlot = true;
            startAttempt();
            return;
        }
        ticket = queued;
        long wait = Math.min(router.resilience.config.queueTimeout().toNanos(), deadline - System.nanoTime());
        queueTimer = router.resilience.schedule(this::queueTimedOut, wait);
    }

    // ---- attempts (any thread, holding this) ------------------------------------------------------

    /** The in-flight gate handed this exchange a slot (on the timer thread). */
    private synchronized void slotGranted() {
        holdsSlot = true;
        ticket = null;
        preMark = System.nanoTime(); // the wait for the slot is the max_in_flight policy, not router overhead
        cancelTimer(queueTimer);
        queueTimer = null;
        startAttempt();
    }

    private synchronized void queueTimedOut() {
        queueTimer = null;
        if (ticket == null || !ticket.cancel()) {
            return; // a slot came first
        }
        ticket = null;
        if (finished) {
            return;
        }
        Resilience r = router.resilience;
        r.queueTimeouts.increment();
        r.rateLimitedEvent(request.id, request.agentId(), "queue", 1_000_000_000L);
        cancelCharge();
        answer(ErrorReply.rateLimited("queue_timeout", "The router already has " + r.gate.limit()
                + " provider calls in flight (max_in_flight) and this request waited "
                + io.ironruntime.resilience.Timeouts.seconds(r.config.queueTimeout()) + " s (queue_timeout) without getting a slot. Retry shortly.")
                .withHeaders(RateLimitReply.retryAfter(1_000_000_000L)));
    }

    /** Calls the provider, unless the client is gone or the upstream's circuit refuses. */
    private void startAttempt() {
        retryTimer = null;
        if (finished || upstreamDone) {
            releaseSlot();
            return;
        }
        Provider provider = request.provider();
        URI origin = request.origin;
        CircuitBreaker breaker = router.resilience.circuits.of(provider, origin);
        long permit = breaker == null ? CircuitBreaker.ALLOWED : breaker.acquire();
        if (permit > 0) {
            upstreamOver();
            if (attemptsMade == 0) {
                cancelCharge(); // the provider never saw it: nothing to record
            } else {
                endCharge(false, 503, "circuit_open");
            }
            answer(Circuits.refusal(breaker, provider, origin, permit));
            return;
        }
        attemptsMade++;
        if (attemptsMade == 1) {
            preNanos += System.nanoTime() - preMark;
        }
        if (request.charge != null) {
            request.charge.attemptStarted();
        }
        UpstreamResponse attempt = new UpstreamResponse(breaker, permit);
        current = attempt;
        upstreamContext = HttpClientContext.create();
        attemptStart = System.nanoTime();
        lastActivity = attemptStart;
        armWatchdog(earlier(attemptStart + router.resilience.timeouts.firstByte().toNanos(), deadline));
        try {
            upstreamCall = router.upstream.execute(UpstreamRequests.producer(request), attempt, upstreamContext);
        } catch (RuntimeException e) {
            attempt.failed(e); // e.g. the client was shut down by a concurrent stop()
        }
    }

    /**
     * Tries again after {@code waitNanos} when retries and time are left; false (nothing changed) when
     * not, and the caller passes the failure on.
     */
    private boolean retryAfter(long waitNanos) {
        if (waitNanos < 0 || attemptsMade > router.resilience.maxRetries || finished
                || System.nanoTime() + waitNanos - deadline >= 0) {
            return false;
        }
        ScheduledFuture<?> timer = router.resilience.schedule(this::retryNow, waitNanos);
        if (timer == null) {
            return false; // the router is stopping
        }
        retryTimer = timer;
        current = null;
        router.resilience.retries.increment();
        return true;
    }

    private synchronized void retryNow() {
        startAttempt();
    }

    /** The wait before retrying a response with this status, or -1 when it is passed on. */
    private long retryWait(HttpResponse response) {
        int code = response.getCode();
        if (!(code == 429 || code == 500 || code == 502 || code == 503 || code == 504 || code == 529)) {
            return -1;
        }
        Header noRetry = response.getFirstHeader("x-should-retry");
        if (noRetry != null && noRetry.getValue().trim().equalsIgnoreCase("false")) {
            return -1;
        }
        long asked = Backoff.asked(headerValue(response, "retry-after-ms"), headerValue(response, "retry-after"),
                System.currentTimeMillis());
        return router.resilience.backoff.waitNanos(attemptsMade, asked, ThreadLocalRandom.current());
    }

    private static String headerValue(HttpResponse response, String name) {
        Header h = response.getFirstHeader(name);
        return h == null ? null : h.getValue();
    }

    // ---- deadlines (timer thread) -----------------------------------------------------------------

    /** Makes sure the watchdog looks no later than {@code at}; an earlier look re-arms itself. */
    private void armWatchdog(long at) {
        if (watchdog != null && watchdogAt - at <= 0) {
            return;
        }
        cancelTimer(watchdog);
        watchdogAt = at;
        watchdog = router.resilience.schedule(this::watchdogFired, at - System.nanoTime());
    }

    private void watchdogFired() {
        Future<Void> toCancel;
        synchronized (this) {
            watchdog = null;
            if (finished || upstreamDone) {
                return;
            }
            toCancel = checkDeadlines();
        }
        cancel(toCancel); // outside the lock: cancelling re-enters HttpCore
    }

    /** Times the call out if a deadline passed, else looks again at the next one. Returns a call to cancel. */
    private Future<Void> checkDeadlines() {
        long now = System.nanoTime();
        UpstreamTimeout.Kind kind = null;
        long next = deadline;
        if (now - deadline >= 0) {
            kind = UpstreamTimeout.Kind.TOTAL;
        } else if (current != null) {
            boolean head = current.headSeen;
            long phase = head ? lastActivity + router.resilience.timeouts.idle().toNanos()
                    : attemptStart + router.resilience.timeouts.firstByte().toNanos();
            if (now - phase >= 0) {
                kind = head ? UpstreamTimeout.Kind.IDLE : UpstreamTimeout.Kind.FIRST_BYTE;
            } else {
                next = earlier(next, phase);
            }
        }
        if (kind == null) {
            armWatchdog(next);
            return null;
        }
        return timeOut(kind);
    }

    private Future<Void> timeOut(UpstreamTimeout.Kind kind) {
        router.resilience.timeouts(kind).increment();
        UpstreamResponse attempt = current;
        current = null;
        cancelTimer(retryTimer);
        retryTimer = null;
        if (attempt != null) {
            attempt.judge(CircuitBreaker.Outcome.FAILURE); // no-op when its head already judged it
        }
        Future<Void> call = attempt == null ? null : upstreamCall;
        try {
            failUpstream(new UpstreamTimeout(kind, router.resilience.timeouts));
        } catch (HttpException | IOException e) {
            abortOutput = true;
            wakeClient();
        }
        return call;
    }

    private static long earlier(long a, long b) {
        return a - b <= 0 ? a : b;
    }

    private static void cancelTimer(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
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
        answeredError = reply.code();
        router.stats.rejected.increment();
        router.stats.errors.increment();
        respond(reply.status(), ProviderErrors.body(request.clientFormat(), reply), ContentType.APPLICATION_JSON, reply.headers());
    }

    /** {@link #respondError} from a timer or a callback, where nothing can be thrown to. */
    private void answer(ErrorReply reply) {
        try {
            respondError(reply);
        } catch (HttpException | IOException e) {
            abortOutput = true;
            wakeClient();
        }
    }

    private void respond(int status, byte[] bytes, ContentType type) throws HttpException, IOException {
        respond(status, bytes, type, Map.of());
    }

    private void respond(int status, byte[] bytes, ContentType type, Map<String, String> headers)
            throws HttpException, IOException {
        BasicHttpResponse response = new BasicHttpResponse(status);
        answeredStatus = status;
        response.addHeader(RouterContext.REQUEST_ID_HEADER, request.id);
        response.addHeader("Content-Type", type.toString());
        if (status >= 400 && status < 500 && status != 429) {
            response.addHeader("x-should-retry", "false"); // the SDKs would otherwise retry 408/409
        }
        headers.forEach(response::addHeader);
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
        Future<Void> running = upstreamDone ? null : upstreamCall;
        upstreamOver();
        return running;
    }

    /** No more provider data is wanted: the deadlines stop and the in-flight slot goes to the next request. */
    private void upstreamOver() {
        upstreamDone = true;
        dropTimersAndSlot();
    }

    private void dropTimersAndSlot() {
        cancelTimer(watchdog);
        watchdog = null;
        cancelTimer(retryTimer);
        retryTimer = null;
        releaseSlot();
    }

    private void releaseSlot() {
        if (holdsSlot) {
            holdsSlot = false;
            router.resilience.gate.leave();
        }
    }

    /** Refused after metering admitted it, before the provider saw it: the reservation goes back, no row. */
    private void cancelCharge() {
        if (request != null && request.charge != null) {
            request.charge.cancel();
        }
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
            if (ticket != null) {
                ticket.cancel(); // false when the slot was handed over meanwhile: slotGranted then gives it back
                ticket = null;
            }
            cancelTimer(queueTimer);
            queueTimer = null;
            dropTimersAndSlot(); // the provider call itself is cancelled by the caller, outside the lock
            // A charge still open here means the client left before the upstream was done; one that
            // never reached a provider (it was still queued for a slot) is released without a row.
            if (attemptsMade == 0) {
                cancelCharge();
            } else {
                endCharge(false, 499, "client_disconnected");
            }
            router.hangups.doneWaiting(clientAddress, this);
            router.stats.inFlight.decrementAndGet();
            countForPrometheus();
            logFinished();
        }
    }

    /** The request log's line: the ledger row when the request was charged, else what the client got. */
    private void logFinished() {
        RequestLog log = router.requestLog;
        if (log == null || request == null || request.route.kind() == Route.Kind.HEALTH) {
            return;
        }
        LedgerRow row = request.charge == null ? null : request.charge.settled();
        if (row == null) {
            int status = answeredStatus != 0 ? answeredStatus : 499;
            String outcome = answeredError != null ? answeredError
                    : !endSent ? "client_disconnected" : status >= 400 ? "upstream_error" : "completed";
            Provider provider = request.provider();
            row = new LedgerRow(System.currentTimeMillis(), request.id, null, request.agentId(),
                    provider == null ? null : provider.wireName(), request.model(), 0, 0, 0, 0, 0, true, false, status,
                    outcome, (System.nanoTime() - startNanos) / 1_000_000, attemptsMade, request.trace.parent().header(),
                    request.piiDetections.get(), request.stream());
        }
        log.add(row);
    }

    /** Once per exchange, after its charge ended: the request by status, and the router's added time. */
    private void countForPrometheus() {
        if (request == null) {
            return; // the connection failed before a request head
        }
        Route.Kind kind = request.route.kind();
        if (kind == Route.Kind.HEALTH) {
            return;
        }
        int ledgerStatus = request.charge == null ? 0 : request.charge.settledStatus();
        int status = ledgerStatus != 0 ? ledgerStatus : answeredStatus != 0 ? answeredStatus : 499;
        router.accounting.traffic.request(request.provider(), request.model(), status);
        if (endSent && upstreamEndNanos != 0 && preNanos >= 0) {
            router.prometheus.latency.routerAdded(request.provider(), preNanos + System.nanoTime() - upstreamEndNanos);
        }
    }

    private void sendHead(HttpResponse upstream, EntityDetails upstreamEntity, long length) throws HttpException, IOException {
        int status = request.translation == null ? upstream.getCode() : request.translation.status(upstream.getCode());
        answeredStatus = status;
        if (status >= 400) {
            router.stats.errors.increment();
        }
        BasicHttpResponse response = status == upstream.getCode() ? new BasicHttpResponse(status, upstream.getReasonPhrase())
                : new BasicHttpResponse(status);
        for (Header h : upstream.getHeaders()) {
            if (!HeaderPolicy.dropFromResponse(h.getName()) && !(gzip != null && h.getName().equalsIgnoreCase("Content-Encoding"))) {
                response.addHeader(h);
            }
        }
        boolean translatedJson = request.translation != null && relay != null && relay.shape() == ResponseRelay.Shape.JSON;
        if (request.translation != null) {
            TranslatedHeaders.adjust(response, upstream.getCode(), translatedJson, request.translationDropped);
        }
        response.setHeader(RouterContext.REQUEST_ID_HEADER, request.id);
        headSent = true;
        router.hangups.doneWaiting(clientAddress, this); // from here on, HttpCore reports a hang-up itself
        EntityDetails entity = upstreamEntity == null ? null : new BasicEntityDetails(length,
                translatedJson ? ContentType.APPLICATION_JSON : ContentType.parseLenient(upstreamEntity.getContentType()));
        responseChannel.sendResponse(response, entity, serverContext);
    }

    private void failUpstream(Exception cause) throws HttpException, IOException {
        upstreamOver();
        router.stats.upstreamFailures.increment();
        String outcome = cause instanceof UpstreamTimeout ? "timed_out" : "upstream_failed";
        if (!headSent) {
            deferredHead = null;
            ErrorReply reply = UpstreamFailures.reply(cause, request.origin);
            endCharge(false, reply.status(), outcome);
            respondError(reply);
            return;
        }
        endCharge(false, UpstreamFailures.isTimeout(cause) ? 504 : 502, outcome);
        router.stats.errors.increment();
        if (relay != null && relay.shape() == ResponseRelay.Shape.SSE) {
            router.resilience.streamFailures.increment();
            try {
                relay.abandon(this::enqueue);
            } catch (ResponsePii.Refused ignored) {
                // the stream ends with the upstream error event below either way
            }
            SseEvent error = ProviderErrors.streamEvent(request.clientFormat(),
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
        if (current != null) {
            current.judge(CircuitBreaker.Outcome.NEUTRAL); // withheld by us: says nothing about the provider
        }
        upstreamOver();
        String outcome = r.blocked ? "pii_blocked" : "pii_failed";
        if (!headSent) {
            deferredHead = null;
            endCharge(true, 0, outcome);
            respondError(r.reply);
            return;
        }
        endCharge(false, 0, outcome);
        router.stats.errors.increment();
        enqueue(ByteBuffer.wrap(ProviderErrors.streamEvent(request.clientFormat(), r.reply).raw()));
        endOutput();
    }

    /**
     * One attempt's response, received on the client reactor. The attempt that is {@link #current}
     * feeds the queue towards the client; one retried past or given up reads its body and drops it.
     */
    private final class UpstreamResponse implements AsyncResponseConsumer<Void>, ResponseRelay.Tap {
        private final CircuitBreaker breaker;
        private final long permit;
        private boolean judged;
        boolean headSeen;
        /** A response that is not passed on (retried past, or its attempt was given up). */
        private boolean discarding;
        private FutureCallback<Void> resultCallback;
        /** The status the provider answered (a translated error body is shaped by it). */
        private int upstreamStatus;
        /** Rewrites a translated stream into the client's format; null when the response is not translated. */
        private io.ironruntime.translate.StreamTranslator streamTranslation;

        UpstreamResponse(CircuitBreaker breaker, long permit) {
            this.breaker = breaker;
            this.permit = permit;
        }

        /** Tells the circuit breaker how this attempt went; once (later calls do nothing). */
        void judge(CircuitBreaker.Outcome outcome) {
            if (!judged) {
                judged = true;
                if (breaker != null) {
                    breaker.record(permit, outcome);
                }
            }
        }

        private boolean passedOn() {
            return !discarding && current == this;
        }

        @Override
        public void consumeResponse(HttpResponse response, EntityDetails entity, HttpContext context,
                FutureCallback<Void> callback) throws HttpException, IOException {
            synchronized (ProxyExchange.this) {
                resultCallback = callback;
                headSeen = true;
                int code = response.getCode();
                // 5xx and Anthropic's 529 say the provider is unwell; 429 and the client's own 4xx do not.
                // A good head is judged when its body ends: a stream reset or stalled mid-way is a failure.
                if (code >= 500) {
                    judge(CircuitBreaker.Outcome.FAILURE);
                } else if (code >= 400 || finished) {
                    judge(CircuitBreaker.Outcome.NEUTRAL);
                }
                if (!passedOn()) {
                    judge(CircuitBreaker.Outcome.SUCCESS); // an attempt given up was judged already: no-op
                    discarding = true;
                    dropped(entity);
                    return;
                }
                lastActivity = System.nanoTime();
                router.prometheus.latency.responseHead(request.provider(), lastActivity - attemptStart);
                armWatchdog(earlier(lastActivity + router.resilience.timeouts.idle().toNanos(), deadline));
                upstreamCredit = Http1Config.DEFAULT.getInitialWindowSize(); // HttpCore's window for a new message
                if (finished) {
                    return;
                }
                if (retryAfter(retryWait(response))) {
                    discarding = true;
                    dropped(entity);
                    return;
                }
                if (code == 401 && request.controlKey != null) {
                    router.accounting.control().keyRejected(request.controlKey); // rotated on the server?
                }
                if (request.charge != null) {
                    request.charge.responseHead(code);
                }
                if (entity == null) {
                    judge(CircuitBreaker.Outcome.SUCCESS);
                    upstreamArrived();
                    upstreamOver();
                    endCharge(true, 0, "completed");
                    sendHead(response, null, 0);
                    complete();
                    return;
                }
                upstreamStatus = code;
                ResponseRelay.Shape shape = ResponseRelay.shapeOf(entity.getContentType(), entity.getContentEncoding());
                if (request.translation != null && code >= 400 && shape == ResponseRelay.Shape.RAW
                        && !ResponseRelay.encoded(entity.getContentEncoding())) {
                    shape = ResponseRelay.Shape.JSON; // an HTML error page from a proxy still reaches the client as its format's error
                }
                relay = ResponseRelay.of(shape, this);
                if (request.translation != null && shape == ResponseRelay.Shape.SSE) {
                    streamTranslation = request.translation.stream();
                }
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

        /** The passed-on response arrived whole: from here on the time is the router's again. */
        private void upstreamArrived() {
            upstreamEndNanos = System.nanoTime();
            router.prometheus.latency.upstreamDone(request.provider(), upstreamEndNanos - attemptStart);
        }

        /** A response without a body that is not passed on is over with its head. */
        private void dropped(EntityDetails entity) {
            if (entity == null) {
                complete();
            }
        }

        @Override
        public void informationResponse(HttpResponse response, HttpContext context) {
        }

        @Override
        public void updateCapacity(CapacityChannel capacityChannel) throws IOException {
            synchronized (ProxyExchange.this) {
                if (!passedOn()) {
                    capacityChannel.update(Integer.MAX_VALUE); // read to the end so the connection can be reused
                    return;
                }
                upstreamCapacity = capacityChannel;
                grantUpstreamCapacity();
            }
        }

        @Override
        public void consume(ByteBuffer src) throws IOException {
            synchronized (ProxyExchange.this) {
                if (!passedOn()) {
                    src.position(src.limit());
                    return;
                }
                upstreamCredit -= src.remaining();
                lastActivity = System.nanoTime();
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
                if (!passedOn()) {
                    complete();
                    return;
                }
                judge(CircuitBreaker.Outcome.SUCCESS);
                upstreamArrived();
                upstreamOver();
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
                if (passedOn()) {
                    onFailure(cause);
                }
                if (resultCallback != null) {
                    resultCallback.failed(cause);
                }
            }
        }

        private void onFailure(Exception cause) {
            if (cause instanceof ConnectTimeoutException) {
                router.resilience.connectTimeouts.increment();
            }
            judge(finished ? CircuitBreaker.Outcome.NEUTRAL : CircuitBreaker.Outcome.FAILURE);
            if (!headSeen && !finished && UpstreamFailures.retryable(cause)
                    && retryAfter(router.resilience.backoff.jitterNanos(attemptsMade, ThreadLocalRandom.current()))) {
                return; // nothing reached the client: the next attempt may still answer it
            }
            if (!finished && !upstreamDone) {
                try {
                    failUpstream(cause);
                } catch (HttpException | IOException e) {
                    abortOutput = true;
                    wakeClient();
                }
            }
            upstreamOver();
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
            java.util.function.Consumer<SseEvent> client = toClient(out);
            if (responsePii == null) {
                client.accept(metered);
            } else {
                // The meter parsed the event already; its tree serves when it forwarded the event as it was.
                JsonNode parsed = request.charge != null && metered == event ? request.charge.meter.lastParsed() : null;
                responsePii.onEvent(metered, parsed, client);
            }
        }

        /** Where checked events go: to the client, through the translator when the request crossed formats. */
        private java.util.function.Consumer<SseEvent> toClient(java.util.function.Consumer<SseEvent> out) {
            io.ironruntime.translate.StreamTranslator t = streamTranslation;
            return t == null ? out : e -> t.onEvent(e, out);
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
            byte[] checked = responsePii == null ? json : responsePii.onBody(json);
            return request.translation == null ? checked : request.translation.body(upstreamStatus, checked);
        }

        @Override
        public void onEnd(java.util.function.Consumer<SseEvent> out) {
            if (responsePii != null) {
                responsePii.onStreamEnd(toClient(out));
            }
            if (streamTranslation != null) {
                streamTranslation.onEnd(out);
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
