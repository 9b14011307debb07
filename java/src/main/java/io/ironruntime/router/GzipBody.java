package io.ironruntime.router;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * A whole response body the provider gzipped although the router asked for none: unpacked so that it
 * can be read (usage) and checked (PII), then sent on uncompressed. Bounded: a body that unpacks past
 * the limit is refused rather than let fill the memory.
 */
final class GzipBody {
    private final int limit;

    GzipBody(int limit) {
        this.limit = limit;
    }

    /** True for a gzip JSON (or plain text) body: the kind the router can unpack and check. */
    static boolean readable(String contentEncoding, String contentType) {
        String enc = contentEncoding == null ? "" : contentEncoding.trim().toLowerCase(Locale.ROOT);
        String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        return (enc.equals("gzip") || enc.equals("x-gzip")) && (ct.startsWith("application/json") || ct.startsWith("text/plain"));
    }

    /** The unpacked body, or null when it is not valid gzip or unpacks past the limit. */
    byte[] unpack(byte[] packed) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(packed))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(packed.length * 4);
            byte[] buf = new byte[16 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                if (out.size() + n > limit) {
                    return null;
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            return null;
        }
    }
}
