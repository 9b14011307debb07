package io.ironruntime.pii;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Recall and precision of {@link Scanner} per entity type on a seeded labelled corpus
 * ({@link LabelledCorpus}): at least 2,000 positives of every type in mixed contexts plus 5,000
 * hard negatives. A detection is a true positive only when its type and span equal an expected span.
 */
class CorpusAccuracyTest {
    private static final long SEED = 20240501L;
    private static final int PER_TYPE = 2100;
    private static final int NEGATIVES = 6000;
    private static final double MIN_RECALL = 0.99;
    private static final double MIN_PRECISION = 0.98;
    private static final int EXAMPLES = 5;

    @Test
    @Timeout(10)
    void recallAndPrecisionPerType() {
        LabelledCorpus corpus = new LabelledCorpus(SEED);
        List<LabelledCorpus.Doc> docs = new ArrayList<>(corpus.positives(PER_TYPE));
        docs.addAll(corpus.negatives(NEGATIVES));

        Map<String, Scanner> scanners = new HashMap<>();
        Map<EntityType, int[]> counts = new EnumMap<>(EntityType.class); // tp, fn, fp
        Map<EntityType, List<String>> misses = new EnumMap<>(EntityType.class);
        Map<EntityType, List<String>> falseAlarms = new EnumMap<>(EntityType.class);
        for (EntityType t : EntityType.values()) {
            counts.put(t, new int[3]);
            misses.put(t, new ArrayList<>());
            falseAlarms.put(t, new ArrayList<>());
        }

        for (LabelledCorpus.Doc doc : docs) {
            Scanner scanner = scanners.computeIfAbsent(doc.region(), reg -> new Scanner(EnumSet.allOf(EntityType.class), reg));
            List<Detection> found = scanner.scan(doc.text());
            Set<Detection> expected = new HashSet<>(doc.expected());
            Set<Detection> got = new HashSet<>(found);
            for (Detection e : doc.expected()) {
                if (got.contains(e)) {
                    counts.get(EntityType.valueOf(e.type()))[0]++;
                } else {
                    counts.get(EntityType.valueOf(e.type()))[1]++;
                    note(misses.get(EntityType.valueOf(e.type())), doc, "expected " + show(doc.text(), e) + " found " + show(doc.text(), found));
                }
            }
            for (Detection d : found) {
                if (!expected.contains(d)) {
                    counts.get(EntityType.valueOf(d.type()))[2]++;
                    note(falseAlarms.get(EntityType.valueOf(d.type())), doc, "found " + show(doc.text(), d) + " expected " + show(doc.text(), doc.expected()));
                }
            }
        }

        StringBuilder table = new StringBuilder(String.format("%n%-15s %6s %6s %6s %8s %9s%n", "type", "tp", "fn", "fp", "recall", "precision"));
        List<String> failures = new ArrayList<>();
        for (EntityType t : EntityType.values()) {
            int[] c = counts.get(t);
            double recall = c[0] + c[1] == 0 ? 1 : (double) c[0] / (c[0] + c[1]);
            double precision = c[0] + c[2] == 0 ? 1 : (double) c[0] / (c[0] + c[2]);
            table.append(String.format("%-15s %6d %6d %6d %8.4f %9.4f%n", t, c[0], c[1], c[2], recall, precision));
            assertTrue(c[0] + c[1] >= 2000, t + " has fewer than 2000 positives: " + (c[0] + c[1]));
            if (recall < MIN_RECALL || precision < MIN_PRECISION) {
                StringBuilder f = new StringBuilder(String.format("%s recall=%.4f precision=%.4f%n", t, recall, precision));
                misses.get(t).forEach(m -> f.append("  missed: ").append(m).append('\n'));
                falseAlarms.get(t).forEach(m -> f.append("  false positive: ").append(m).append('\n'));
                failures.add(f.toString());
            }
        }
        System.out.print(table);
        failures.forEach(System.out::print);
        assertTrue(failures.isEmpty(), table + String.join("", failures));
    }

    private static void note(List<String> examples, LabelledCorpus.Doc doc, String what) {
        if (examples.size() < EXAMPLES) {
            String text = doc.text().length() > 160 ? doc.text().substring(0, 160) + "..." : doc.text();
            examples.add("[" + doc.region() + "] " + escape(text) + "  -> " + escape(what));
        }
    }

    private static String show(String text, Detection d) {
        String v = text.substring(d.start(), d.end());
        return d.type() + "[" + d.start() + "," + d.end() + ")=\"" + (v.length() > 60 ? v.substring(0, 60) + "..." : v) + "\"";
    }

    private static String show(String text, List<Detection> ds) {
        List<String> out = new ArrayList<>();
        ds.forEach(d -> out.add(show(text, d)));
        return out.toString();
    }

    private static String escape(String s) {
        return s.replace("\n", "\\n");
    }
}
