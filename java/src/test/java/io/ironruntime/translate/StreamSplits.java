package io.ironruntime.translate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ironruntime.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random texts and random ways to cut them into stream deltas, for the split-invariance tests. */
final class StreamSplits {
    /** Letters, spaces, JSON-special characters, line ends, accents, CJK and a character outside the BMP. */
    private static final String[] ALPHABET = {"a", "b", "Z", " ", "\"", "\\", "\n", "\t", "{", "}", ":", ",", "é", "日本", "😀", "/"};

    private StreamSplits() {
    }

    static String randomText(Random random) {
        int length = random.nextInt(60);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            sb.append(ALPHABET[random.nextInt(ALPHABET.length)]);
        }
        return sb.length() == 0 ? "x" : sb.toString();
    }

    /** A tool's arguments as compact JSON, as both providers stream them. */
    static String randomArguments(Random random) {
        ObjectNode args = Json.MAPPER.createObjectNode();
        args.put("query", randomText(random));
        args.put("limit", random.nextInt(100));
        args.putArray("tags").add(randomText(random)).add(random.nextBoolean());
        return args.toString();
    }

    /** {@code s} cut at random code point boundaries into non-empty pieces. */
    static List<String> split(String s, Random random) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        while (start < s.length()) {
            int codePoints = 1 + random.nextInt(8);
            int end = start;
            for (int i = 0; i < codePoints && end < s.length(); i++) {
                end = s.offsetByCodePoints(end, 1);
            }
            pieces.add(s.substring(start, end));
            start = end;
        }
        return pieces;
    }
}
