package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One protocol's flows: the {@link FlowTable} that finds a flow by key, the {@link FlowLimits} that bound them per
 * VM and in total, and the sweep that ends idle ones. The protocol decides what ending a flow means (close a socket,
 * reset a connection) and calls {@link #remove} when it is gone. Lookups allocate nothing. Owned by one event loop;
 * not thread-safe.
 */
public final class FlowSet<F extends NatFlow> {

    private final FlowTable<F> table;
    private final FlowLimits limits;
    private final Counters counters;
    private final Counter vmLimitDrop;
    private final Counter tableFullDrop;
    private final Counter expiredCount;
    /** Flows collected before they are ended: the table must not change while it is walked. */
    private final List<F> ending = new ArrayList<>();

    /**
     * @param vmLimitDrop counted when a VM already has {@code perVm} flows
     * @param tableFullDrop counted when there are {@code total} flows
     * @param expiredCount counted for each flow {@link #expireIdle} ends
     */
    public FlowSet(int perVm, int total, Counters counters, Counter vmLimitDrop, Counter tableFullDrop,
            Counter expiredCount) {
        this.table = new FlowTable<>(total);
        this.limits = new FlowLimits(perVm, total);
        this.counters = counters;
        this.vmLimitDrop = vmLimitDrop;
        this.tableFullDrop = tableFullDrop;
        this.expiredCount = expiredCount;
    }

    public F get(long high, long low) {
        return table.get(high, low);
    }

    /**
     * Reserves room for one more flow of this VM; when a limit refuses, counts the drop and returns false. Follow
     * with {@link #add}, or with {@link #cancel} when the flow cannot be set up after all.
     */
    public boolean admit(long vmMac) {
        switch (limits.tryAcquire(vmMac)) {
            case VM_LIMIT -> {
                counters.increment(vmLimitDrop);
                return false;
            }
            case TOTAL_LIMIT -> {
                counters.increment(tableFullDrop);
                return false;
            }
            case ADMITTED -> {
                return true;
            }
        }
        throw new AssertionError("unreachable");
    }

    /** Gives back a room {@link #admit} reserved for a flow that was never added. */
    public void cancel(long vmMac) {
        limits.release(vmMac);
    }

    /** Adds an admitted flow. */
    public void add(F flow) {
        table.put(flow.keyHigh, flow.keyLow, flow); // cannot fail: the limits admit at most the table's size
    }

    /** Takes an added flow out and gives back its room; call once per flow. */
    public void remove(NatFlow flow) {
        table.remove(flow.keyHigh, flow.keyLow);
        limits.release(flow.vmMac);
    }

    /** Counts and ends every flow idle longer than its timeout at {@code now}; {@code end} must {@link #remove} it. */
    public void expireIdle(long now, Consumer<? super F> end) {
        table.forEach(flow -> {
            if (flow.idleAt(now)) {
                ending.add(flow);
            }
        });
        for (F flow : ending) {
            counters.increment(expiredCount);
            end.accept(flow);
        }
        ending.clear();
    }

    /** Ends every flow; {@code end} must {@link #remove} it. */
    public void endAll(Consumer<? super F> end) {
        table.forEach(ending::add);
        for (F flow : ending) {
            end.accept(flow);
        }
        ending.clear();
    }

    public int size() {
        return table.size();
    }

    public int size(long vmMac) {
        return limits.inUse(vmMac);
    }
}
