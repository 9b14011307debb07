package io.ironruntime.router;

import io.ironruntime.provider.SseEvent;
import io.ironruntime.provider.SseParser;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Turns upstream body bytes into what the client receives, chunk by chunk. Three shapes:
 * an SSE stream is parsed and forwarded one complete event at a time; a JSON body is collected and
 * handed on whole (it is small, and readers need all of it); anything else passes through as it comes.
 * A {@link Tap} sees every parsed event (and may rewrite or drop it) or the whole body. Not thread-safe: the exchange serialises calls.
 */
abstract class ResponseRelay {
    /** Upper bound for collecting a JSON body; past it the body is forwarded as raw bytes. */
    static final int MAX_COLLECTED_BODY = 64 * 1024 * 1024;

    protected final Tap observer;

    ResponseRelay(Tap observer) {
        this.observer = observer;
    }

    /** Sees the response on its way: every parsed event (and may rewrite, drop or add events), or the whole JSON body. */
    interface Tap {
        /** Emits to {@code out} what the client gets for {@code event}: itself, rewritten, nothing, or more. */
        void onEvent(SseEvent event, Consumer<SseEvent> out);

        /** Returns the body the client gets: {@code json} itself or a rewrite. */
        byte[] onBody(byte[] json);

        /** The stream ended normally: emit whatever the tap still holds. */
        void onEnd(Consumer<SseEvent> out);
    }

    enum Shape { SSE, JSON, RAW }

    static Shape shapeOf(String contentType, String contentEncoding) {
        if (encoded(contentEncoding)) {
            return Shape.RAW; // compressed despite our Accept-Encoding: cannot be read, so pass it on untouched
        }
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        if (ct.startsWith("text/event-stream")) {
            return Shape.SSE;
        }
        if (ct.startsWith("application/json") || ct.startsWith("text/plain")) {
            return Shape.JSON; // collected whole: text answers (a transcription as text) are read like JSON ones
        }
        return Shape.RAW;
    }

    /** True for a body in a content coding (gzip, br, ...) rather than as is. */
    static boolean encoded(String contentEncoding) {
        return contentEncoding != null && !contentEncoding.isBlank() && !contentEncoding.equalsIgnoreCase("identity");
    }

    static ResponseRelay of(Shape shape, Tap observer) {
        return switch (shape) {
            case SSE -> new Sse(observer);
            case JSON -> new Json(observer);
            case RAW -> new Raw(observer);
        };
    }

    /** Consumes all of {@code chunk}; emits zero or more output buffers. */
    abstract void accept(ByteBuffer chunk, Consumer<ByteBuffer> out);

    /** The upstream body ended normally: emit whatever is held. */
    abstract void finish(Consumer<ByteBuffer> out);

    /** The upstream failed mid-body: emit what can safely be emitted before the stream is closed. */
    void abandon(Consumer<ByteBuffer> out) {
        finish(out);
    }

    abstract Shape shape();

    /** True while the relay collects the whole body: the response head waits for its exact length. */
    boolean holdsHead() {
        return false;
    }

    static final class Sse extends ResponseRelay {
        private final SseParser parser = new SseParser();

        Sse(Tap observer) {
            super(observer);
        }

        @Override
        void accept(ByteBuffer chunk, Consumer<ByteBuffer> out) {
            parser.feed(chunk, e -> emit(e, out));
        }

        @Override
        void finish(Consumer<ByteBuffer> out) {
            byte[] rest = parser.finish(e -> emit(e, out));
            observer.onEnd(e -> out.accept(ByteBuffer.wrap(e.raw())));
            if (rest.length > 0) {
                out.accept(ByteBuffer.wrap(rest));
            }
        }

        @Override
        void abandon(Consumer<ByteBuffer> out) {
            // A half-received event is dropped: sending it would hand the client a truncated JSON line.
            // What a tap holds is dropped too: a value cut off mid-way is never flushed as if complete.
            parser.finish(e -> emit(e, out));
        }

        private void emit(SseEvent e, Consumer<ByteBuffer> out) {
            observer.onEvent(e, forwarded -> out.accept(ByteBuffer.wrap(forwarded.raw())));
        }

        @Override
        Shape shape() {
            return Shape.SSE;
        }
    }

    static final class Json extends ResponseRelay {
        private ByteArrayOutputStream body = new ByteArrayOutputStream(4096);
        private boolean overflowed;

        Json(Tap observer) {
            super(observer);
        }

        @Override
        void accept(ByteBuffer chunk, Consumer<ByteBuffer> out) {
            if (overflowed) {
                out.accept(copy(chunk));
                return;
            }
            if (body.size() + chunk.remaining() > MAX_COLLECTED_BODY) {
                overflowed = true;
                out.accept(ByteBuffer.wrap(body.toByteArray()));
                body = null;
                out.accept(copy(chunk));
                return;
            }
            byte[] bytes = new byte[chunk.remaining()];
            chunk.get(bytes);
            body.write(bytes, 0, bytes.length);
        }

        @Override
        void finish(Consumer<ByteBuffer> out) {
            if (overflowed) {
                return;
            }
            out.accept(ByteBuffer.wrap(observer.onBody(body.toByteArray())));
        }

        @Override
        boolean holdsHead() {
            return !overflowed;
        }

        @Override
        Shape shape() {
            return Shape.JSON;
        }
    }

    static final class Raw extends ResponseRelay {
        Raw(Tap observer) {
            super(observer);
        }

        @Override
        void accept(ByteBuffer chunk, Consumer<ByteBuffer> out) {
            out.accept(copy(chunk));
        }

        @Override
        void finish(Consumer<ByteBuffer> out) {
        }

        @Override
        Shape shape() {
            return Shape.RAW;
        }
    }

    static ByteBuffer copy(ByteBuffer chunk) {
        ByteBuffer b = ByteBuffer.allocate(chunk.remaining());
        b.put(chunk).flip();
        return b;
    }
}
