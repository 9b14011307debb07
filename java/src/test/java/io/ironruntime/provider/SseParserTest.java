package io.ironruntime.provider;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {
    private static final String ANTHROPIC = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
            + "event: ping\ndata: {\"type\": \"ping\"}\n\n"
            + ": keep-alive comment\n\n"
            + "event: content_block_delta\ndata: {\"delta\":{\"text\":\"h\u00e9llo\"}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    @Test
    void emitsEachEventWithNameAndData() {
        List<SseEvent> events = parseAll(List.of(ANTHROPIC.getBytes(StandardCharsets.UTF_8)));
        assertEquals(5, events.size());
        assertEquals("message_start", events.get(0).event());
        assertEquals("{\"type\":\"message_start\"}", events.get(0).data());
        assertTrue(events.get(2).isComment());
        assertEquals("{\"delta\":{\"text\":\"h\u00e9llo\"}}", events.get(3).data());
    }

    @Test
    void splitAtEveryPositionGivesTheSameEventsAndTheSameBytes() {
        byte[] all = ANTHROPIC.getBytes(StandardCharsets.UTF_8);
        List<SseEvent> whole = parseAll(List.of(all));
        for (int cut = 1; cut < all.length; cut++) {
            byte[] a = java.util.Arrays.copyOfRange(all, 0, cut);
            byte[] b = java.util.Arrays.copyOfRange(all, cut, all.length);
            List<SseEvent> split = parseAll(List.of(a, b));
            assertEquals(whole.size(), split.size(), "cut at " + cut);
            for (int i = 0; i < whole.size(); i++) {
                assertEquals(whole.get(i).event(), split.get(i).event());
                assertEquals(whole.get(i).data(), split.get(i).data());
                assertArrayEquals(whole.get(i).raw(), split.get(i).raw());
            }
        }
    }

    @Test
    void byteAtATimeWithCrlfAndCrLineEnds() {
        String crlf = "data: one\r\n\r\nevent: x\r\ndata: a\r\ndata: b\r\n\r\ndata: cr\r\r";
        byte[] bytes = crlf.getBytes(StandardCharsets.UTF_8);
        List<byte[]> chunks = new ArrayList<>();
        for (byte b : bytes) {
            chunks.add(new byte[] {b});
        }
        List<SseEvent> events = parseAll(chunks);
        assertEquals(3, events.size());
        assertEquals("one", events.get(0).data());
        assertEquals("x", events.get(1).event());
        assertEquals("a\nb", events.get(1).data());
        assertEquals("cr", events.get(2).data());
        assertArrayEquals(bytes, concat(events, new byte[0]));
    }

    @Test
    void openAiStreamEndsWithDoneAndRawBytesRoundTrip() {
        String s = "data: {\"choices\":[]}\n\ndata: [DONE]\n\n";
        List<SseEvent> events = parseAll(List.of(s.getBytes(StandardCharsets.UTF_8)));
        assertEquals("[DONE]", events.get(1).data());
        assertNull(events.get(1).event());
        assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), concat(events, new byte[0]));
    }

    @Test
    void finishEmitsAnEventMissingItsBlankLineAndReturnsLeftoverBytes() {
        SseParser p = new SseParser();
        List<SseEvent> out = new ArrayList<>();
        p.feed(ByteBuffer.wrap("data: complete\n\ndata: no-blank-line".getBytes(StandardCharsets.UTF_8)), out::add);
        assertEquals(1, out.size());
        byte[] rest = p.finish(out::add);
        assertEquals(2, out.size());
        assertEquals("no-blank-line", out.get(1).data());
        assertEquals(0, rest.length);

        SseParser q = new SseParser();
        q.feed(ByteBuffer.wrap("\n".getBytes(StandardCharsets.UTF_8)), e -> { });
        q.feed(ByteBuffer.wrap(":partial".getBytes(StandardCharsets.UTF_8)), e -> { });
        assertEquals(":partial", new String(q.finish(e -> { }), StandardCharsets.UTF_8));
    }

    @Test
    void ofBuildsCanonicalEvent() {
        SseEvent e = SseEvent.of("error", "{\"a\":1}\n{\"b\":2}");
        assertEquals("event: error\ndata: {\"a\":1}\ndata: {\"b\":2}\n\n", new String(e.raw(), StandardCharsets.UTF_8));
        List<SseEvent> parsed = parseAll(List.of(e.raw()));
        assertEquals(e.data(), parsed.get(0).data());
    }

    /**
     * The parser copies runs of bytes; this checks it against the plain byte-at-a-time reading of the
     * same rules (below) on random streams of fields, comments and every kind of line end, cut at random.
     */
    @Test
    void runsOfBytesParseLikeOneByteAtATime() {
        java.util.Random random = new java.util.Random(20261121);
        String[] pieces = {"data: ", "data:", "event: ", "id: 7", ": note", "x", "h\u00e9llo", "{\"a\":1}", "\n", "\r",
            "\r\n", "\n\n", "\r\n\r\n", "\r\r", ":"};
        for (int round = 0; round < 3000; round++) {
            StringBuilder text = new StringBuilder();
            for (int k = random.nextInt(40); k > 0; k--) {
                text.append(pieces[random.nextInt(pieces.length)]);
            }
            byte[] all = text.toString().getBytes(StandardCharsets.UTF_8);
            List<SseEvent> got = new ArrayList<>();
            SseParser parser = new SseParser();
            int at = 0;
            while (at < all.length) {
                int len = 1 + random.nextInt(Math.min(12, all.length - at));
                ByteBuffer chunk = random.nextBoolean() ? ByteBuffer.wrap(all, at, len)
                        : ByteBuffer.allocateDirect(len).put(all, at, len).flip();
                parser.feed(chunk, got::add);
                assertEquals(0, chunk.remaining());
                at += len;
            }
            byte[] rest = parser.finish(got::add);
            ByteAtATime reference = new ByteAtATime();
            for (byte b : all) {
                reference.feed(b);
            }
            byte[] expectedRest = reference.finish();
            assertEquals(reference.events.size(), got.size(), text.toString());
            for (int i = 0; i < got.size(); i++) {
                assertEquals(reference.events.get(i).event(), got.get(i).event(), text.toString());
                assertEquals(reference.events.get(i).data(), got.get(i).data(), text.toString());
                assertArrayEquals(reference.events.get(i).raw(), got.get(i).raw(), text.toString());
            }
            assertArrayEquals(expectedRest, rest, text.toString());
            assertArrayEquals(all, concat(got, rest), text.toString());
        }
    }

    /** The WHATWG rules read one byte at a time: the reference for the test above. */
    private static final class ByteAtATime {
        final List<SseEvent> events = new ArrayList<>();
        private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final StringBuilder data = new StringBuilder();
        private boolean hasData;
        private String event;
        private boolean lastWasCr;

        void feed(byte b) {
            raw.write(b);
            if (b == '\n' && lastWasCr) {
                lastWasCr = false;
                return;
            }
            lastWasCr = b == '\r';
            if (b != '\n' && b != '\r') {
                line.write(b);
            } else if (line.size() == 0) {
                emit();
            } else {
                field();
            }
        }

        byte[] finish() {
            if (line.size() > 0) {
                field();
            }
            if (hasData || event != null) {
                emit();
                return new byte[0];
            }
            return raw.toByteArray();
        }

        private void field() {
            String l = line.toString(StandardCharsets.UTF_8);
            line.reset();
            if (l.startsWith(":")) {
                return;
            }
            int colon = l.indexOf(':');
            String name = colon < 0 ? l : l.substring(0, colon);
            String value = colon < 0 ? "" : l.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            if (name.equals("data")) {
                data.append(hasData ? "\n" : "").append(value);
                hasData = true;
            } else if (name.equals("event")) {
                event = value;
            }
        }

        private void emit() {
            events.add(new SseEvent(raw.toByteArray(), event, hasData ? data.toString() : null));
            raw.reset();
            data.setLength(0);
            hasData = false;
            event = null;
        }
    }

    private static List<SseEvent> parseAll(List<byte[]> chunks) {
        SseParser p = new SseParser();
        List<SseEvent> out = new ArrayList<>();
        for (byte[] c : chunks) {
            p.feed(ByteBuffer.wrap(c), out::add);
        }
        byte[] rest = p.finish(out::add);
        assertEquals(0, rest.length);
        return out;
    }

    private static byte[] concat(List<SseEvent> events, byte[] rest) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        events.forEach(e -> b.writeBytes(e.raw()));
        b.writeBytes(rest);
        return b.toByteArray();
    }
}
