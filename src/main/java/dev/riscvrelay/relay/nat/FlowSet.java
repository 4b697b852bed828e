package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.lan.LongTable;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * One protocol's flows: the table that finds a flow by key, the {@link FlowLimits} that bound them per VM and in
 * total, and the sweep that ends idle ones. The protocol decides what ending a flow means (close a socket,
 * reset a connection) and calls {@link #remove} when it is gone. Lookups allocate nothing. Owned by one event loop;
 * not thread-safe.
 */
public final class FlowSet<F extends NatFlow> {

    /**
     * Flows by their key folded into one {@code long} ({@link #fold}); flows whose keys fold alike hang off the
     * first in a chain through {@link NatFlow#sameFoldedKey}, so a lookup compares the whole key.
     */
    private final LongTable<F> table;
    /** Secret per set, so a guest cannot choose keys that fold alike and make chains long. */
    private final long seed;
    private int size;
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
        this(perVm, total, HostBudget.unlimitedShare(), counters, vmLimitDrop, tableFullDrop,
                expiredCount, new SplittableRandom().nextLong());
    }

    /** Flows whose host sockets come out of a network's share of the relay's budget. */
    public FlowSet(int perVm, int total, HostBudget.Share budget, Counters counters, Counter vmLimitDrop,
            Counter tableFullDrop, Counter expiredCount) {
        this(perVm, total, budget, counters, vmLimitDrop, tableFullDrop, expiredCount,
                new SplittableRandom().nextLong());
    }

    /** With a chosen {@code seed}: tests that need keys folding alike. */
    FlowSet(int perVm, int total, Counters counters, Counter vmLimitDrop, Counter tableFullDrop,
            Counter expiredCount, long seed) {
        this(perVm, total, HostBudget.unlimitedShare(), counters, vmLimitDrop, tableFullDrop,
                expiredCount, seed);
    }

    private FlowSet(int perVm, int total, HostBudget.Share budget, Counters counters, Counter vmLimitDrop,
            Counter tableFullDrop, Counter expiredCount, long seed) {
        this.table = new LongTable<>(total);
        this.seed = seed;
        this.limits = new FlowLimits(perVm, total, budget);
        this.counters = counters;
        this.vmLimitDrop = vmLimitDrop;
        this.tableFullDrop = tableFullDrop;
        this.expiredCount = expiredCount;
    }

    /** The IPv4 flow with this key, or null. */
    public F get(long high, long low) {
        return get(high, low, 0, 0);
    }

    /** The flow with this key (IPv6 words zero for IPv4, {@link FlowKey}), or null. */
    @SuppressWarnings("unchecked")
    public F get(long high, long low, long high6, long low6) {
        NatFlow flow = table.get(fold(high, low, high6, low6));
        while (flow != null && (flow.keyHigh != high || flow.keyLow != low || flow.key6High != high6
                || flow.key6Low != low6)) {
            flow = flow.sameFoldedKey;
        }
        return (F) flow;
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
            case BUDGET_LIMIT -> {
                counters.increment(Counter.DROP_NAT_HOST_BUDGET);
                return false;
            }
            case ADMITTED -> {
                return true;
            }
        }
        throw new AssertionError("unreachable");
    }

    /** The budget account the flows of {@code vmMac} are charged to, or null when it has none. */
    public HostBudget.Share.Account accountOf(long vmMac) {
        return limits.accountOf(vmMac);
    }

    /** Gives back a room {@link #admit} reserved for a flow that was never added. */
    public void cancel(long vmMac) {
        limits.release(vmMac);
    }

    /** Adds an admitted flow. */
    public void add(F flow) {
        long folded = fold(flow.keyHigh, flow.keyLow, flow.key6High, flow.key6Low);
        F first = table.get(folded);
        if (first == null) {
            table.put(folded, flow); // cannot fail: the limits admit at most the table's size
        } else {
            flow.sameFoldedKey = first.sameFoldedKey;
            first.sameFoldedKey = flow;
        }
        size++;
    }

    /** Takes an added flow out and gives back its room; call once per flow. */
    @SuppressWarnings("unchecked")
    public void remove(NatFlow flow) {
        long folded = fold(flow.keyHigh, flow.keyLow, flow.key6High, flow.key6Low);
        F first = table.get(folded);
        if (first == flow) {
            if (flow.sameFoldedKey == null) {
                table.remove(folded);
            } else {
                table.put(folded, (F) flow.sameFoldedKey);
            }
        } else {
            NatFlow before = first;
            while (before.sameFoldedKey != flow) {
                before = before.sameFoldedKey;
            }
            before.sameFoldedKey = flow.sameFoldedKey;
        }
        flow.sameFoldedKey = null;
        size--;
        limits.release(flow.vmMac);
    }

    /** Counts and ends every flow idle longer than its timeout at {@code now}; {@code end} must {@link #remove} it. */
    public void expireIdle(long now, Consumer<? super F> end) {
        forEach(flow -> {
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
        forEach(ending::add);
        for (F flow : ending) {
            end.accept(flow);
        }
        ending.clear();
    }

    public int size() {
        return size;
    }

    public int size(long vmMac) {
        return limits.inUse(vmMac);
    }

    @SuppressWarnings("unchecked")
    private void forEach(Consumer<? super F> action) {
        table.forEach(first -> {
            for (NatFlow flow = first; flow != null; flow = flow.sameFoldedKey) {
                action.accept((F) flow);
            }
        });
    }

    /**
     * The two halves of a key folded into one {@code long}: for one high half every low half folds differently
     * (both steps are bijections), so only flows of different address pairs can share a fold.
     */
    long fold(long high, long low) {
        return mix(mix(high ^ seed) ^ low);
    }

    /**
     * The four words of a key folded into one: IPv4 keys (IPv6 words zero) fold as {@link #fold(long, long)}; an
     * IPv6 key mixes the destination's halves in before the low half, so again for one address pair every low half
     * folds differently.
     */
    long fold(long high, long low, long high6, long low6) {
        if ((high6 | low6) == 0) {
            return fold(high, low);
        }
        return mix(mix(mix(mix(high ^ seed) ^ high6) ^ low6) ^ low);
    }

    /** Stafford's mix13 finaliser, a bijection on {@code long}. */
    static long mix(long x) {
        x = (x ^ (x >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return x ^ (x >>> 31);
    }
}
