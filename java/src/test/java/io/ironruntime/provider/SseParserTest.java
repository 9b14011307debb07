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
