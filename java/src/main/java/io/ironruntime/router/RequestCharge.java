package io.ironruntime.router;

import io.ironruntime.cost.BudgetLedger;
import io.ironruntime.cost.ModelPrice;
import io.ironruntime.cost.RequestEstimate;
import io.ironruntime.cost.TokenCounter;
import io.ironruntime.cost.Usage;
import io.ironruntime.provider.Provider;
import io.ironruntime.provider.UsageReader;

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
    final String requestId;
    final String model;
    final Provider provider;
    /** The model's prices, tiers included; null for a model without a price ({@code unknown_model="allow"}). */
    final ModelPrice price;
    /** The service tier the request asked for (what it was reserved at), or null. */
    private final String requestedTier;
    private final RequestEstimate estimate;
    final BudgetLedger.Reservation reservation;
    final ResponseMeter meter;
    private final boolean producesOutput;
    private final long startNanos = System.nanoTime();
    private int status;
    private boolean closed;

    RequestCharge(Accounting accounting, String requestId, String model, Provider provider, ModelPrice price,
            String requestedTier, RequestEstimate estimate, BudgetLedger.Reservation reservation, boolean producesOutput, boolean hideUsage) {
        this.accounting = accounting;
        this.requestId = requestId;
        this.model = model;
        this.provider = provider;
        this.price = price;
        this.requestedTier = requestedTier;
        this.estimate = estimate;
        this.reservation = reservation;
        this.producesOutput = producesOutput;
        this.meter = new ResponseMeter(hideUsage);
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
        if (status == 0) {
            accounting.settle(this, Usage.NONE, null, false, statusIfNoHead, "not_answered", latencyMs);
            return;
        }
        UsageReader reported = meter.usage();
        if (status >= 400) {
            accounting.settle(this, reported.usage(), tier(reported), false, status, "upstream_error", latencyMs);
        } else if (complete && reported.hasUsage()) {
            accounting.settle(this, reported.usage(), tier(reported), false, status, "completed", latencyMs);
        } else {
            accounting.settle(this, counted(reported), tier(reported), true, status, complete ? "completed" : outcome,
                    latencyMs);
        }
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
