package dev.riscvrelay.relay.nat;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * What the NATs of all networks together may take from the host: sockets (file descriptors: one per TCP connection,
 * UDP flow and echo flow) and the memory of TCP data read from hosts and not yet acknowledged by VMs. One budget for
 * the relay, with shares: a network may take at most {@link Limits#networkShare()} of it and the VMs of one client
 * address at most {@link Limits#addressShare()}, so one network or one client cannot starve the rest however many
 * connections each network's own limits allow.
 *
 * <p>A socket past the budget is refused (the flow is not opened, and counted); memory past it is not refused but
 * makes TCP connections stop reading from their hosts until VMs acknowledge what they hold (each keeps
 * {@link #GUARANTEED_BUFFER_BYTES}, so none stalls for good).
 *
 * <p>Each {@link Share} and its accounts belong to its network's event loop; the relay's totals are shared by the
 * networks of every loop, so they are atomic (no locks). A socket is taken by adding first and giving back when that
 * went past the budget, so two loops never both take the last one.
 */
public final class HostBudget {

    /** A TCP connection may always hold this much unacknowledged host data, whatever the budget says. */
    public static final int GUARANTEED_BUFFER_BYTES = 64 * 1024;

    /**
     * @param sockets host sockets all NATs may hold together
     * @param bufferBytes bytes of unacknowledged TCP host data all NATs may hold together
     * @param networkShare the fraction of each one network may take
     * @param addressShare the fraction of each the VMs of one client address may take
     */
    public record Limits(int sockets, long bufferBytes, double networkShare, double addressShare) {
        public Limits {
            if (sockets < 1 || bufferBytes < GUARANTEED_BUFFER_BYTES) {
                throw new IllegalArgumentException("a budget needs at least one socket and "
                        + GUARANTEED_BUFFER_BYTES + " buffer bytes: " + sockets + ", " + bufferBytes);
            }
            if (!(networkShare > 0 && networkShare <= 1 && addressShare > 0 && addressShare <= 1)) {
                throw new IllegalArgumentException("shares must be in (0, 1]: " + networkShare + ", " + addressShare);
            }
        }
    }

    /** No limit beyond each NAT's own: for tests and tools that run one NAT alone. */
    public static HostBudget unlimited() {
        return new HostBudget(new Limits(Integer.MAX_VALUE, Long.MAX_VALUE, 1, 1));
    }

    /** A network's share of an {@link #unlimited()} budget, every VM unattributed: a NAT with no relay around it. */
    public static Share unlimitedShare() {
        return unlimited().share(mac -> null);
    }

    private final Limits limits;
    private final int networkSockets;
    private final int addressSockets;
    private final long networkBytes;
    private final long addressBytes;
    private final AtomicInteger sockets = new AtomicInteger();
    private final AtomicLong bytes = new AtomicLong();

    public HostBudget(Limits limits) {
        this.limits = limits;
        this.networkSockets = share(limits.sockets(), limits.networkShare());
        this.addressSockets = share(limits.sockets(), limits.addressShare());
        this.networkBytes = share(limits.bufferBytes(), limits.networkShare());
        this.addressBytes = share(limits.bufferBytes(), limits.addressShare());
    }

    private static int share(int whole, double fraction) {
        return (int) Math.max(1, Math.min(whole, Math.floor(whole * fraction)));
    }

    private static long share(long whole, double fraction) {
        return whole == Long.MAX_VALUE ? whole : Math.max(1, (long) Math.floor(whole * fraction));
    }

    public Limits limits() {
        return limits;
    }

    public int sockets() {
        return sockets.get();
    }

    public long bufferBytes() {
        return bytes.get();
    }

    /**
     * One network's share.
     *
     * @param clientOf the client (an address, or any key with equals) whose session holds a VM's MAC, or null when
     *     none does: such VMs share only the network's part
     */
    public Share share(LongFunction<Object> clientOf) {
        return new Share(clientOf);
    }

    /** One network's part of the budget, and its clients' parts. */
    public final class Share {
        private final LongFunction<Object> clientOf;
        private final Map<Object, Account> accounts = new HashMap<>();
        private final Account unattributed = new Account(null);
        private int sockets;
        private long bytes;

        private Share(LongFunction<Object> clientOf) {
            this.clientOf = clientOf;
        }

        /** The account a new flow of {@code vmMac} charges, for as long as the flow lives. */
        public Account accountOf(long vmMac) {
            return accountOfClient(clientOf.apply(vmMac));
        }

        /**
         * The account of {@code client} (any key with equals; null: the unattributed one), for flows that belong to
         * a client rather than a VM (WISP streams). Ask again for each flow: an account is forgotten once idle.
         */
        public Account accountOfClient(Object client) {
            if (client == null) {
                return unattributed;
            }
            Account account = accounts.get(client);
            if (account == null) {
                account = new Account(client);
                accounts.put(client, account);
            }
            return account;
        }

        public int sockets() {
            return sockets;
        }

        public long bufferBytes() {
            return bytes;
        }

        /** What the VMs of one client (or the unattributed ones) hold in this network. */
        public final class Account {
            private final Object client;
            private int accountSockets;
            private long accountBytes;

            private Account(Object client) {
                this.client = client;
            }

            /** Takes one socket, or returns false when the relay's, the network's or the client's part is used up. */
            public boolean tryTakeSocket() {
                if (Share.this.sockets >= networkSockets || (client != null && accountSockets >= addressSockets)) {
                    return false;
                }
                if (HostBudget.this.sockets.incrementAndGet() > limits.sockets()) {
                    HostBudget.this.sockets.decrementAndGet();
                    return false;
                }
                Share.this.sockets++;
                accountSockets++;
                return true;
            }

            public void giveSocket() {
                HostBudget.this.sockets.decrementAndGet();
                Share.this.sockets--;
                accountSockets--;
                forgetIfIdle();
            }

            /** Charges (or with a negative amount, refunds) buffered bytes. */
            public void charge(long amount) {
                HostBudget.this.bytes.addAndGet(amount);
                Share.this.bytes += amount;
                accountBytes += amount;
                forgetIfIdle();
            }

            /** Whether the relay's, the network's or the client's part of the buffer memory is used up. */
            public boolean buffersFull() {
                return HostBudget.this.bytes.get() >= limits.bufferBytes() || Share.this.bytes >= networkBytes
                        || (client != null && accountBytes >= addressBytes);
            }

            public int sockets() {
                return accountSockets;
            }

            public long bufferBytes() {
                return accountBytes;
            }

            private void forgetIfIdle() {
                if (client != null && accountSockets == 0 && accountBytes == 0) {
                    accounts.remove(client);
                }
            }
        }
    }
}
