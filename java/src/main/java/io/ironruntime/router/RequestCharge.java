package io.ironruntime.router;

import io.ironruntime.cost.ModelPrice;
import io.ironruntime.cost.RequestEstimate;
import io.ironruntime.cost.TokenCounter;
import io.ironruntime.cost.Usage;
import io.ironruntime.provider.Provider;
import io.ironruntime.provider.UsageReader;
import io.ironruntime.resilience.RateLimiter;
import io.ironruntime.state.LedgerRow;

/**
 * The money side of one metered request: its reservation, what the response reports, and the one
 * settlement at the end, whichever way the exchange ends. Settling twice is impossible: the first
 * {@link #end} wins and later calls do nothing.
 *
 * <p>How the end is charged:
 * <ul>
 * <li>the provider never answered (connect failure, timeout, client gone before the response head):
 *     nothing, the reservation is released;</li>
 * <li>an error status: what its usage says, which is nothing;</li>
 * <li>complete with usage: exactly the provider's usage;</li>
 * <li>cut short (client disconnect, upstream drop) or without usage: the input the provider reported,
 *     else the request's tokenizer count, and the output counted from the text already produced, or
 *     what the provider reported if that is more. The row is flagged {@code usage_estimated}.</li>
 * </ul>
 */
final class RequestCharge {
    private final Accounting accounting;
    /** The request charged: its trace, stream flag and PII count go into the row at settlement. */
    final ProxyRequest request;
    final String requestId;
    final String model;
    final Provider provider;
    /** The model's prices, tiers included; null for a model without a price ({@code unknown_model="allow"}). */
    final ModelPrice price;
    /** The service tier the request asked for (what it was reserved at), or null. */
    private final String requestedTier;
    final RequestEstimate estimate;
    /** The most output the request can produce, all completions together (0 when unknown or none). */
    final long outputBound;
    final BudgetHold hold;
    /** The runtime agent the request is charged to as well, or null. */
    final AgentAccount agent;
    final ResponseMeter meter;
    private final boolean producesOutput;
    private final long startNanos = System.nanoTime();
    private int status;
    /** The status of the ledger row once settled; 0 while open or when cancelled (no row). */
    private int settledStatus;
    /** The row of the settlement; null while open or when cancelled. */
    private LedgerRow settled;
    private boolean closed;
    /** Provider calls made for this request (retries included). */
    private int attempts;
    /** Tokens the rate limiter took up front, corrected at the end; null without a tokens limit. */
    private RateLimiter limiter;
    private long rateTokens;

    RequestCharge(Accounting accounting, ProxyRequest request, String model, Provider provider, ModelPrice price,
            String requestedTier, RequestEstimate estimate, BudgetHold hold, AgentAccount agent, boolean producesOutput,
            boolean hideUsage, long outputBound) {
        this.accounting = accounting;
        this.request = request;
        this.requestId = request.id;
        this.model = model;
        this.provider = provider;
        this.price = price;
        this.requestedTier = requestedTier;
        this.estimate = estimate;
        this.hold = hold;
        this.agent = agent;
        this.producesOutput = producesOutput;
        this.meter = new ResponseMeter(hideUsage);
        this.outputBound = outputBound;
    }

    /** Another provider call starts for this request. */
    synchronized void attemptStarted() {
        attempts++;
    }

    synchronized int attempts() {
        return attempts;
    }

    /** The rate limiter took {@code tokens} for this request; the end corrects them from the usage. */
    synchronized void rateLimited(RateLimiter limiter, long tokens) {
        this.limiter = limiter;
        this.rateTokens = tokens;
    }

    /** The request will not be sent after all (refused after it was admitted): nothing is charged, no row is written. */
    synchronized void cancel() {
        if (!closed) {
            closed = true;
            hold.release();
            correctRate(0);
        }
    }

    private void correctRate(long actualTokens) {
        if (limiter != null) {
            limiter.correct(rateTokens, actualTokens);
            limiter = null;
        }
    }

    synchronized int settledStatus() {
        return settledStatus;
    }

    /** The ledger row of the settlement (also kept without a database); null while open or when cancelled. */
    synchronized LedgerRow settled() {
        return settled;
    }

    synchronized void responseHead(int httpStatus) {
        this.status = httpStatus;
    }

    /**
     * The upstream side is over.
     *
     * @param complete       the response body arrived whole
     * @param statusIfNoHead the status to record when the provider never answered (499, 502, 504)
     * @param outcome        what happened when not complete: {@code client_disconnected} or {@code upstream_failed}
     */
    synchronized void end(boolean complete, int statusIfNoHead, String outcome) {
        if (closed) {
            return;
        }
        closed = true;
        complete |= meter.sawEnd(); // the client hung up after the last event: nothing was cut short
        long latencyMs = (System.nanoTime() - startNanos) / 1_000_000;
        settledStatus = status == 0 ? statusIfNoHead : status;
        Usage charged;
        if (status == 0) {
            charged = Usage.NONE;
            settled = accounting.settle(this, charged, null, false, statusIfNoHead, "not_answered", latencyMs);
        } else {
            UsageReader reported = meter.usage();
            if (status >= 400) {
                charged = reported.usage();
                settled = accounting.settle(this, charged, tier(reported), false, status, "upstream_error", latencyMs);
            } else if (complete && reported.hasUsage()) {
                charged = reported.usage();
                settled = accounting.settle(this, charged, tier(reported), false, status, "completed", latencyMs);
            } else {
                charged = counted(reported);
                settled = accounting.settle(this, charged, tier(reported), true, status, complete ? "completed" : outcome,
                        latencyMs);
            }
        }
        correctRate(charged.totalInputTokens() + charged.outputTokens());
    }

    /** The tier the response reports, else the one the request asked for (what it was reserved at). */
    private String tier(UsageReader reported) {
        return reported.serviceTier() != null ? reported.serviceTier() : requestedTier;
    }

    /** Usage when the provider did not report all of it: what it did report, the rest counted. */
    private Usage counted(UsageReader reported) {
        Usage u = reported.usage();
        long output = producesOutput ? Math.max(u.outputTokens(), TokenCounter.count(model, meter.text())) : 0;
        if (u.totalInputTokens() > 0) {
            return new Usage(u.inputTokens(), u.cacheReadTokens(), u.cacheWriteTokens(), output);
        }
        return new Usage(estimate.inputTokens(), 0, 0, output);
    }
}
