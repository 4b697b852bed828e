package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.lan.LongTable;

/**
 * Counts a protocol's flows per VM and in total and refuses a new one past either limit. A VM is keyed by its
 * source MAC: it is what replies are addressed to. Owned by one event loop; not thread-safe.
 */
public final class FlowLimits {

    /** The outcome of {@link #tryAcquire}. */
    public enum Admission { ADMITTED, VM_LIMIT, TOTAL_LIMIT }

    private final int perVm;
    private final int total;
    private final LongTable<int[]> perVmCounts;
    private int inUse;

    public FlowLimits(int perVm, int total) {
        this.perVm = perVm;
        this.total = total;
        this.perVmCounts = new LongTable<>(total);
    }

    public Admission tryAcquire(long vmMac) {
        if (inUse >= total) {
            return Admission.TOTAL_LIMIT;
        }
        int[] count = perVmCounts.get(vmMac);
        if (count == null) {
            count = new int[1]; // once per VM with flows, not per packet
            perVmCounts.put(vmMac, count);
        } else if (count[0] >= perVm) {
            return Admission.VM_LIMIT;
        }
        count[0]++;
        inUse++;
        return Admission.ADMITTED;
    }

    public void release(long vmMac) {
        int[] count = perVmCounts.get(vmMac);
        if (count == null) {
            throw new IllegalStateException("release without acquire for " + Long.toHexString(vmMac));
        }
        inUse--;
        if (--count[0] == 0) {
            perVmCounts.remove(vmMac);
        }
    }

    public int inUse() {
        return inUse;
    }

    public int inUse(long vmMac) {
        int[] count = perVmCounts.get(vmMac);
        return count == null ? 0 : count[0];
    }
}
