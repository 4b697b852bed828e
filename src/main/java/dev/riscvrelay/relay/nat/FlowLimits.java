package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.lan.LongTable;

/**
 * Counts a protocol's flows per VM and in total and refuses a new one past either limit, or when the host socket
 * it needs is past the relay's {@link HostBudget}. A VM is keyed by its source MAC: it is what replies are addressed
 * to. Owned by one event loop; not thread-safe.
 */
public final class FlowLimits {

    /** The outcome of {@link #tryAcquire}. */
    public enum Admission { ADMITTED, VM_LIMIT, TOTAL_LIMIT, BUDGET_LIMIT }

    /** One VM's flows, and the budget account they are charged to while it has any. */
    private static final class VmFlows {
        int count;
        HostBudget.Share.Account account;
    }

    private final int perVm;
    private final int total;
    private final HostBudget.Share budget;
    private final LongTable<VmFlows> perVmCounts;
    private int inUse;

    public FlowLimits(int perVm, int total) {
        this(perVm, total, HostBudget.unlimitedShare());
    }

    public FlowLimits(int perVm, int total, HostBudget.Share budget) {
        this.perVm = perVm;
        this.total = total;
        this.budget = budget;
        this.perVmCounts = new LongTable<>(total);
    }

    public Admission tryAcquire(long vmMac) {
        if (inUse >= total) {
            return Admission.TOTAL_LIMIT;
        }
        VmFlows flows = perVmCounts.get(vmMac);
        if (flows != null && flows.count >= perVm) {
            return Admission.VM_LIMIT;
        }
        HostBudget.Share.Account account = flows != null ? flows.account : budget.accountOf(vmMac);
        if (!account.tryTakeSocket()) {
            return Admission.BUDGET_LIMIT;
        }
        if (flows == null) {
            flows = new VmFlows(); // once per VM with flows, not per packet
            flows.account = account;
            perVmCounts.put(vmMac, flows);
        }
        flows.count++;
        inUse++;
        return Admission.ADMITTED;
    }

    public void release(long vmMac) {
        VmFlows flows = perVmCounts.get(vmMac);
        if (flows == null) {
            throw new IllegalStateException("release without acquire for " + Long.toHexString(vmMac));
        }
        inUse--;
        flows.account.giveSocket();
        if (--flows.count == 0) {
            perVmCounts.remove(vmMac);
        }
    }

    /** The account the flows of {@code vmMac} are charged to, or null when it has none. */
    public HostBudget.Share.Account accountOf(long vmMac) {
        VmFlows flows = perVmCounts.get(vmMac);
        return flows == null ? null : flows.account;
    }

    public int inUse() {
        return inUse;
    }

    public int inUse(long vmMac) {
        VmFlows flows = perVmCounts.get(vmMac);
        return flows == null ? 0 : flows.count;
    }
}
