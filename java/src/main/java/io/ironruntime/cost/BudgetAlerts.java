package io.ironruntime.cost;

import java.util.ArrayList;
import java.util.List;

/**
 * Which budget thresholds have been crossed, so each alert fires once per crossing. A threshold fires
 * when spent reaches that fraction of the limit; when the limit is raised and spent falls back below
 * it, it re-arms and fires again on the next crossing. Pure and thread-safe.
 */
public final class BudgetAlerts {
    private static final long PPM = 1_000_000;
    private final int[] thresholdsPpm;
    private int fired;

    /** @param thresholdsPpm fractions of the limit in parts per million, ascending */
    public BudgetAlerts(List<Integer> thresholdsPpm) {
        this.thresholdsPpm = thresholdsPpm.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The thresholds (ppm) newly crossed at {@code now}; empty when there is no limit. */
    public synchronized List<Integer> check(BudgetLedger.Snapshot now) {
        if (now.unlimited()) {
            fired = 0;
            return List.of();
        }
        int crossed = 0;
        while (crossed < thresholdsPpm.length && now.spent() >= share(now.limit(), thresholdsPpm[crossed])) {
            crossed++;
        }
        List<Integer> fresh = new ArrayList<>();
        for (int i = fired; i < crossed; i++) {
            fresh.add(thresholdsPpm[i]);
        }
        fired = crossed; // thresholds above the new spend re-arm
        return fresh;
    }

    /** {@code limit * ppm / 1e6} without overflow, rounded down. */
    static long share(long limit, int ppm) {
        return limit / PPM * ppm + (limit % PPM) * ppm / PPM;
    }
}
