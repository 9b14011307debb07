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
        if (!config.scansRequests() || r.json == null || !"POST".equalsIgnoreCase(r.method())) {
            return null;
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
