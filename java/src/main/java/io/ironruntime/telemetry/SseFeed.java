package io.ironruntime.telemetry;

import io.ironruntime.admin.AdminHandler;
import io.ironruntime.admin.AdminReply;
import io.ironruntime.admin.AdminRequest;
import io.ironruntime.admin.StreamSink;
import io.ironruntime.admin.StreamSource;

/**
 * {@code GET /iron/events}: the live feed as Server-Sent Events, one {@code id:}/{@code event:}/{@code data:}
 * block per message ({@code event} is the message's type), optionally only {@code ?types=a,b}. The
 * response's sink bounds what it queues for a client that does not read; past that the stream ends
 * and the hub counts the subscriber as dropped.
 */
public final class SseFeed implements AdminHandler {
    /** What a browser's EventSource waits before reconnecting after the stream ends. */
    static final long RETRY_MILLIS = 3_000;

    private final FeedHub hub;

    public SseFeed(FeedHub hub) {
        this.hub = hub;
    }

    @Override
    public AdminReply handle(AdminRequest request) {
        FeedFilter filter = FeedFilter.parse(request.param("types"));
        return AdminReply.stream("text/event-stream", new Stream(filter));
    }

    /** One client's stream: a hub subscriber writing SSE blocks to the response. */
    private final class Stream implements StreamSource, FeedClient {
        private final FeedFilter filter;
        private StreamSink sink;
        private FeedHub.Subscription subscription;
        private boolean closed;
        /** The {@code id:} of the next block; feed thread only. */
        private long nextId = 1;
        /** This round's blocks, written at its end; feed thread only. */
        private final java.io.ByteArrayOutputStream round = new java.io.ByteArrayOutputStream();

        Stream(FeedFilter filter) {
            this.filter = filter;
        }

        @Override
        public void open(StreamSink sink) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                this.sink = sink;
            }
            sink.write(SseFrames.retry(RETRY_MILLIS));
            FeedHub.Subscription s = hub.subscribe("feed-sse", filter, this);
            boolean leftAlready;
            synchronized (this) {
                subscription = s;
                leftAlready = closed;
            }
            if (leftAlready) {
                s.close();
            }
        }

        @Override
        public boolean send(FeedMessage message) {
            round.writeBytes(SseFrames.id(nextId++));
            round.writeBytes(message.sseBody());
            return true;
        }

        /** One write (one wake-up of the server's I/O thread) per round, however many messages it had. */
        @Override
        public boolean flush() {
            if (round.size() == 0) {
                return true;
            }
            byte[] chunk = round.toByteArray();
            round.reset();
            return sink.write(chunk);
        }

        @Override
        public void close(Close why) {
            sink.end();
        }

        /** The client left or the response ended. */
        @Override
        public void close() {
            FeedHub.Subscription s;
            synchronized (this) {
                closed = true;
                s = subscription;
            }
            if (s != null) {
                s.close();
            }
        }
    }
}
