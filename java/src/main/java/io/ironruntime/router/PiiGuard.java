package io.ironruntime.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.ironruntime.Json;
import io.ironruntime.config.PiiConfig;
import io.ironruntime.events.EventSink;
import io.ironruntime.pii.CustomPattern;
import io.ironruntime.pii.Detection;
import io.ironruntime.pii.Finding;
import io.ironruntime.pii.JsonTextStream;
import io.ironruntime.pii.PiiMode;
import io.ironruntime.pii.Redactor;
import io.ironruntime.pii.Scanner;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.state.LedgerStore;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A router's PII and secret handling: the request stage that scans (and rewrites or refuses) what
 * agents send, and the per-response rewriter for what models answer. Lives as long as the router.
 */
final class PiiGuard {
    final PiiConfig config;
    final Scanner scanner;
    final Redactor redactor;
    final PiiAudit audit;

    PiiGuard(PiiConfig config, EventSink events, LedgerStore store) {
        this.config = config;
        this.scanner = config.scanner();
        this.redactor = new Redactor(config.mode(), config.salt());
        this.audit = new PiiAudit(config.mode(), events, store);
    }

    boolean blocks() {
        return config.mode() == PiiMode.BLOCK;
    }

    /**
     * The request stage: runs before anything leaves the machine. A JSON body is scanned in its text
     * fields. A body the JSON stage left alone because of its label is checked anyway: JSON under
     * another type as JSON (the provider may well read it so), other text as text. Binary and
     * multipart bodies (audio, images, file uploads) pass as they are.
     */
    ErrorReply admit(ProxyRequest r) {
        if (!config.scansRequests() || r.body == null || r.body.length == 0) {
            return null;
        }
        JsonNode tree = r.json;
        String text = null;
        if (tree == null) {
            String ct = r.header("Content-Type");
            String type = ct == null ? "" : ct.toLowerCase(Locale.ROOT);
            if (!(type.isEmpty() || type.startsWith("text/") || type.contains("json") || type.contains("x-www-form-urlencoded"))) {
                return null;
            }
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(r.body)).toString();
            } catch (CharacterCodingException e) {
                return type.isEmpty() ? null : ErrorReply.badRequest("pii_scan_failed", "The request body is labelled "
                        + RequestStages.printable(ct) + " but is not UTF-8 text, so it could not be checked for PII and was not sent");
            }
            JsonNode parsed = Json.readOrNull(text);
            tree = parsed != null && parsed.isContainerNode() ? parsed : null;
        }
        Set<String> found = new TreeSet<>();
        byte[] rewritten;
        try {
            rewritten = tree != null ? rewriteTree(r, tree, found) : rewriteText(r, text, found);
        } catch (RuntimeException e) { // fail closed: a request that could not be checked is not sent
            audit.failedScans.increment();
            return new ErrorReply(500, "server_error", "api_error", "pii_scan_failed", "The router could not check"
                    + " this request for PII, so it was not sent: " + (e instanceof CustomPattern.Failed ? e.getMessage()
                    : e.getClass().getSimpleName()));
        }
        if (blocks() && !found.isEmpty()) {
            audit.blockedRequests.increment();
            return blocked("The request was not sent: it contains " + String.join(", ", found)
                    + " (pii='block'). Remove those values, or use pii='redact' to send them as placeholders.");
        }
        if (rewritten != null) {
            r.body = rewritten;
        }
        return null;
    }

    /** Rewrites the text fields of a body in place; returns its new encoding, or null when nothing changed. */
    private byte[] rewriteTree(ProxyRequest r, JsonNode tree, Set<String> found) {
        boolean changed = TextFields.rewriteBody(tree, (path, t, kind) -> redact(t, kind, f -> {
            found.add(f.type());
            audit.record(r, "request", path.toString(), f);
        }));
        return changed ? ResponsePii.write(tree).getBytes(StandardCharsets.UTF_8) : null;
    }

    private byte[] rewriteText(ProxyRequest r, String text, Set<String> found) {
        String out = redact(text, TextFields.Kind.TEXT, f -> {
            found.add(f.type());
            audit.record(r, "request", "body", f);
        });
        return out.equals(text) ? null : out.getBytes(StandardCharsets.UTF_8);
    }

    /** The rewriter of one response, or null when responses are not scanned. */
    ResponsePii forResponse(ProxyRequest r) {
        return config.scansResponses() ? new ResponsePii(this, r) : null;
    }

    /** {@code text} redacted whole; each detection goes to {@code sink} (null: not audited again). */
    String redact(String text, TextFields.Kind kind, Consumer<Finding> sink) {
        if (kind == TextFields.Kind.JSON_SOURCE) {
            return JsonTextStream.whole(scanner, redactor, sink, text);
        }
        List<Detection> found = scanner.scan(text);
        return found.isEmpty() ? text : redactor.apply(text, found, 0, sink);
    }

    static ErrorReply blocked(String message) {
        return new ErrorReply(400, "iron_cage_pii_blocked", "iron_cage_pii_blocked", "pii_blocked", message);
    }
}
