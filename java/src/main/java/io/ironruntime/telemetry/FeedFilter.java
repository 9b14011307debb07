package io.ironruntime.telemetry;

import io.ironruntime.events.EngineEvent;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which message types a subscriber wants ({@code ?types=request_completed,COST_ALERT}); heartbeats
 * always pass, since they tell the client the feed is alive. Pure.
 */
public final class FeedFilter {
    public static final FeedFilter ALL = new FeedFilter(null);

    /** Null: everything. */
    private final Set<String> types;

    private FeedFilter(Set<String> types) {
        this.types = types;
    }

    /**
     * Parses a comma-separated list of engine event types (lower case) and protocol types (upper
     * case; either case is accepted). Null or blank means everything.
     *
     * @throws IllegalArgumentException naming an unknown type and the known ones
     */
    public static FeedFilter parse(String csv) {
        if (csv == null || csv.isBlank()) {
            return ALL;
        }
        Set<String> wanted = new LinkedHashSet<>();
        for (String part : csv.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) {
                continue;
            }
            String upper = t.toUpperCase(Locale.ROOT);
            String lower = t.toLowerCase(Locale.ROOT);
            if (FeedProtocol.TYPES.contains(upper)) {
                wanted.add(upper);
            } else if (EngineEvent.TYPES.contains(lower)) {
                wanted.add(lower);
            } else {
                Set<String> known = new TreeSet<>(FeedProtocol.TYPES);
                known.addAll(EngineEvent.TYPES);
                throw new IllegalArgumentException("Unknown type '" + printable(t) + "' in types= (known: "
                        + String.join(", ", known) + ")");
            }
        }
        return wanted.isEmpty() ? ALL : new FeedFilter(Set.copyOf(wanted));
    }

    public boolean accepts(String type) {
        return types == null || types.contains(type) || type.equals(FeedProtocol.HEARTBEAT);
    }

    private static String printable(String s) {
        String cut = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    @Override
    public String toString() {
        return types == null ? "all" : String.join(",", new TreeSet<>(types));
    }
}
