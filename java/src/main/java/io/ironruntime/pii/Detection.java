package io.ironruntime.pii;

/** One detected value: its type and its {@code [start, end)} offsets in the scanned text. Never the value itself. */
public record Detection(EntityType type, int start, int end) {
    public int length() {
        return end - start;
    }
}
