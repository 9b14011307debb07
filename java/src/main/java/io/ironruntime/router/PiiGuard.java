package io.ironruntime.router;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.ironruntime.Json;
import io.ironruntime.config.PiiConfig;
import io.ironruntime.events.EventQueue;
import io.ironruntime.pii.CustomPattern;
import io.ironruntime.pii.Detection;
import io.ironruntime.pii.Finding;
import io.ironruntime.pii.JsonTextStream;
import io.ironruntime.pii.PiiMode;
import io.ironruntime.pii.Redactor;
import io.ironruntime.pii.Scanner;
import io.ironruntime.provider.ErrorReply;
import io.ironruntime.state.LedgerStore;
import java.util.List;
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

    PiiGuard(PiiConfig config, EventQueue events, LedgerStore store) {
        this.config = config;
        this.scanner = config.scanner();
        this.redactor = new Redactor(config.mode(), config.salt());
        this.audit = new PiiAudit(config.mode(), events, store);
    }

    boolean blocks() {
        return config.mode() == PiiMode.BLOCK;
    }

    /** The request stage: runs on JSON bodies before anything leaves the machine. */
    ErrorReply admit(ProxyRequest r) {
        if (!config.scansRequests() || r.body == null || r.body.length == 0) {
            return null;
        }
        if (r.json == null) {
            return admitUnparsed(r);
        }
        Set<String> found = new TreeSet<>();
        boolean changed;
        try {
            changed = TextFields.rewriteBody(r.json, (path, text, kind) -> redact(text, kind, f -> {
                found.add(f.type());
                audit.record(r.id, "request", path.toString(), f);
            }));
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
        if (changed) {
            try {
                r.body = Json.MAPPER.writeValueAsBytes(r.json);
            } catch (JsonProcessingException e) {
                return ErrorReply.badRequest("invalid_json", "The request body could not be re-encoded after redaction");
            }
        }
        return null;
    }

    /**
     * A body the JSON stage did not parse because its content type is not JSON. Text that leaves the
     * machine is checked whatever its label: JSON under another type is scanned as JSON (the provider
     * may well read it as JSON), other text as text. Binary and multipart bodies (audio, images, file
     * uploads) are passed as they are.
     */
    private ErrorReply admitUnparsed(ProxyRequest r) {
        String ct = r.header("Content-Type");
        String type = ct == null ? "" : ct.toLowerCase(java.util.Locale.ROOT);
        if (!(type.isEmpty() || type.startsWith("text/") || type.contains("json") || type.contains("x-www-form-urlencoded"))) {
            return null;
        }
        String text;
        try {
            text = java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(r.body)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return type.isEmpty() ? null : ErrorReply.badRequest("pii_scan_failed", "The request body is labelled "
                    + RequestStages.printable(ct) + " but is not UTF-8 text, so it could not be checked for PII and was not sent");
        }
        com.fasterxml.jackson.databind.JsonNode json = Json.readOrNull(text);
        if (json != null && json.isContainerNode()) {
            r.json = json;
            ErrorReply reply = admit(r); // scans the parsed body; rewrites r.body when it changes
            r.json = null; // the later stages keep treating the body as what its label says
            return reply;
        }
        Set<String> found = new TreeSet<>();
        String out = redact(text, TextFields.Kind.TEXT, f -> {
            found.add(f.type());
            audit.record(r.id, "request", "body", f);
        });
        if (blocks() && !found.isEmpty()) {
            audit.blockedRequests.increment();
            return blocked("The request was not sent: it contains " + String.join(", ", found) + " (pii='block').");
        }
        if (!out.equals(text)) {
            r.body = out.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        return null;
    }

    /** The rewriter of one response, or null when responses are not scanned. */
    ResponsePii forResponse(ProxyRequest r) {
        return config.scansResponses() ? new ResponsePii(this, r.id) : null;
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
