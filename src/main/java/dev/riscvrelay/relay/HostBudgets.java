package dev.riscvrelay.relay;

import com.sun.management.UnixOperatingSystemMXBean;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.tcp.TcpConfig;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/**
 * The relay's {@link HostBudget} from what this process may use: the open-file limit (RLIMIT_NOFILE, as the JVM
 * raised it) less what sessions need, and a quarter of the direct memory limit (-XX:MaxDirectMemorySize) for TCP
 * data held for VMs; the rest of it stays for frames in flight and session queues.
 */
public final class HostBudgets {

    /** Descriptors kept for everything but NAT flows: UDP and listening sockets, epoll, the jar, logs. */
    public static final int RESERVED_DESCRIPTORS = 256;
    /** The most NAT sockets a budget grants, whatever the open-file limit (Docker's default is 1,048,576). */
    static final int MAX_SOCKETS = 65_536;
    static final int MIN_SOCKETS = 64;
    /** One network may take half of the relay's budget; the VMs of one client address an eighth. */
    static final double NETWORK_SHARE = 0.5;
    static final double ADDRESS_SHARE = 0.125;

    private HostBudgets() {
    }

    /** The open-file limit of this process, or -1 when the platform does not tell. */
    public static long openFileLimit() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : -1;
    }

    public static HostBudget.Limits forThisHost(int maxSessions) {
        return of(openFileLimit(), PlatformDependent.maxDirectMemory(), maxSessions);
    }

    static HostBudget.Limits of(long openFileLimit, long maxDirectMemory, int maxSessions) {
        long sockets = openFileLimit < 0 ? MAX_SOCKETS : openFileLimit - reservedFor(maxSessions);
        int granted = (int) Math.max(MIN_SOCKETS, Math.min(MAX_SOCKETS, sockets));
        long bytes = Math.max(HostBudget.GUARANTEED_BUFFER_BYTES, maxDirectMemory / 4);
        return new HostBudget.Limits(granted, bytes, NETWORK_SHARE, ADDRESS_SHARE);
    }

    /** Descriptors sessions may take (each WebSocket is one) and the rest of the relay's own. */
    public static long reservedFor(int maxSessions) {
        return (long) maxSessions + RESERVED_DESCRIPTORS;
    }

    /**
     * What one network may open at its own limits (TCP connections, UDP flows and echo flows), no more than the
     * budget ever grants: the sockets the open-file limit should leave room for besides {@link #reservedFor}.
     */
    public static int oneNetworkAtItsLimits() {
        NatConfig nat = NatConfig.defaults();
        return Math.min(MAX_SOCKETS, TcpConfig.defaults().maxConnections() + nat.udpMaxFlows() + nat.icmpMaxFlows());
    }

    /** The start-up line: the budget, and a warning when the open-file limit is too low for the relay's limits. */
    public static String describe(HostBudget.Limits limits, long openFileLimit, int maxSessions) {
        StringBuilder line = new StringBuilder("Host budget: ").append(limits.sockets())
                .append(" sockets for NAT flows, ").append(limits.bufferBytes() >> 20)
                .append(" MiB for TCP data held for VMs; one network takes at most half, one client address an"
                        + " eighth");
        if (openFileLimit >= 0) {
            line.append(" (open files: ").append(openFileLimit).append(')');
            long wanted = reservedFor(maxSessions) + oneNetworkAtItsLimits();
            if (openFileLimit < wanted) {
                line.append(System.lineSeparator()).append("Warning: the open-file limit ").append(openFileLimit)
                        .append(" is below the ").append(wanted).append(" that ").append(maxSessions)
                        .append(" sessions and one network's NAT at its limits may use: new flows will be refused"
                                + " early; raise it (ulimit -n, LimitNOFILE=, docker run --ulimit nofile=...)");
            }
        }
        return line.toString();
    }
}
