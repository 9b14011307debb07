package io.ironruntime.telemetry;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the distinct values of a user-controlled label (model names, agent ids): the first
 * {@code max} values seen keep their own label, later ones share {@link #OTHER}. Without a bound
 * every new model name would be a new time series in the user's Prometheus forever. Values are also
 * cut to {@link #MAX_LENGTH} characters. Thread-safe; a known value costs one map lookup.
 */
public final class LabelCap {
    public static final String OTHER = "other";
    public static final int MAX_LENGTH = 100;

    private final int max;
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();
    private final AtomicInteger size = new AtomicInteger();

    public LabelCap(int max) {
        this.max = max;
    }

    /** The label value to use for {@code value} (null counts as the empty string). */
    public String of(String value) {
        String v = value == null ? "" : value.length() > MAX_LENGTH ? value.substring(0, MAX_LENGTH) : value;
        if (admitted.contains(v)) {
            return v;
        }
        // Reserve a place first, so concurrent newcomers can never push the count past max.
        if (size.incrementAndGet() > max) {
            size.decrementAndGet();
            return OTHER;
        }
        if (!admitted.add(v)) {
            size.decrementAndGet(); // another thread admitted the same value meanwhile
        }
        return v;
    }

    public int size() {
        return admitted.size();
    }
}
