package io.ironruntime.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ByteRingTest {
    private static void write(ByteRing ring, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        ring.write(b, 0, b.length);
    }

    @Test
    void tailCountsLinesFromTheEndAndAFinalNewlineEndsTheLastLine() {
        ByteRing ring = new ByteRing(100);
        write(ring, "a\nb\nc\n");
        assertEquals("c\n", ring.tail(1));
        assertEquals("b\nc\n", ring.tail(2));
        assertEquals("a\nb\nc\n", ring.tail(10));
        assertEquals("", ring.tail(0));
        write(ring, "partial");
        assertEquals("partial", ring.tail(1));
        assertEquals("c\npartial", ring.tail(2));
    }

    @Test
    void keepsTheNewestBytesAndDropsTheLineItCutAtTheStart() {
        ByteRing ring = new ByteRing(10);
        write(ring, "first\nsecond\nthird\n");
        // Kept "ond\nthird\n": "ond" is the cut end of "second".
        assertEquals("third\n", ring.tail(5));
        assertEquals(19, ring.total());
        write(ring, "0123456789abcdef");
        assertEquals("", ring.tail(1), "no line starts inside the ring");
    }

    @Test
    void wrapsAroundTheEndOfItsBuffer() {
        ByteRing ring = new ByteRing(8);
        for (int i = 0; i < 20; i++) {
            write(ring, i + "\n");
        }
        assertEquals("18\n19\n", ring.tail(2));
        // Kept "7\n18\n19\n": the cut "7" is left out.
        assertEquals("18\n19\n", ring.tail(100));
    }

    @Test
    void malformedUtf8IsReplaced() {
        ByteRing ring = new ByteRing(16);
        ring.write(new byte[] {(byte) 0xff, 'o', 'k', '\n'}, 0, 4);
        assertEquals("\uFFFDok\n", ring.tail(1));
    }
}
