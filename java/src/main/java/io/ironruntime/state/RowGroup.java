package io.ironruntime.state;

import java.util.List;

/** Rows committed in one transaction: a ledger row with what the router owes the control server for it. */
public record RowGroup(List<StoreRow> rows) implements StoreRow {
    public RowGroup {
        rows = List.copyOf(rows);
        if (rows.stream().anyMatch(r -> r instanceof RowGroup)) {
            throw new IllegalArgumentException("groups do not nest");
        }
    }
}
