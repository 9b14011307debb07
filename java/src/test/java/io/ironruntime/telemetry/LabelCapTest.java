package io.ironruntime.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LabelCapTest {
    @Test
    void valuesBeyondTheCapShareOther() {
        LabelCap cap = new LabelCap(2);
        assertEquals("a", cap.of("a"));
        assertEquals("b", cap.of("b"));
        assertEquals(LabelCap.OTHER, cap.of("c"));
        assertEquals("a", cap.of("a"), "a value admitted earlier keeps its label");
        assertEquals(2, cap.size());
    }

    @Test
    void longValuesAreCutAndNullIsEmpty() {
        LabelCap cap = new LabelCap(10);
        assertEquals(LabelCap.MAX_LENGTH, cap.of("m".repeat(500)).length());
        assertEquals("", cap.of(null));
    }
}
