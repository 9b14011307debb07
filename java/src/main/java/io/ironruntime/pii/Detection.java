package io.ironruntime.pii;

/**
 * One detected value: its type name and its {@code [start, end)} offsets in the scanned text. Never
 * the value itself. The type is a name rather than {@link EntityType} because users add their own
 * ({@code pii_patterns}); built-in names are {@code EntityType.name()}.
 */
public record Detection(String type, int start, int end) {
    public Detection(EntityType type, int start, int end) {
        this(type.name(), start, end);
    }

    public int length() {
        return end - start;
    }
}
