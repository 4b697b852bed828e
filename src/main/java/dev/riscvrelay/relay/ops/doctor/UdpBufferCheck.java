package dev.riscvrelay.relay.ops.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The relay asks for large UDP socket buffers (SO_RCVBUF and SO_SNDBUF), so bursts survive while the event loop is
 * busy; Linux silently caps both at {@code net.core.rmem_max} and {@code net.core.wmem_max}.
 */
public final class UdpBufferCheck implements Check {

    static final String NAME = "udp buffers";
    private final int askedBytes;

    /** @param askedBytes what the relay asks for, SO_RCVBUF and SO_SNDBUF alike */
    public UdpBufferCheck(int askedBytes) {
        this.askedBytes = askedBytes;
    }

    @Override
    public Finding run(HostFacts host) {
        List<String> short_ = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        StringBuilder seen = new StringBuilder();
        for (String sysctl : List.of("net.core.rmem_max", "net.core.wmem_max")) {
            Optional<String> value = host.sysctl(sysctl);
            long max = value.map(v -> Long.parseLong(v.trim())).orElse(-1L);
            seen.append(seen.isEmpty() ? "" : ", ").append(sysctl).append(' ').append(value.orElse("unknown"));
            if (max >= 0 && max < askedBytes) {
                short_.add(sysctl + " is " + max);
                fixes.add("sysctl -w " + sysctl + "=" + askedBytes);
            }
        }
        if (short_.isEmpty()) {
            return Finding.ok(NAME, seen + ": the " + askedBytes + " bytes the relay asks for are granted");
        }
        return Finding.warn(NAME, String.join(", ", short_) + ", below the " + askedBytes + " bytes the relay asks "
                + "for: bursts beyond it are lost while the event loop is busy", String.join("; ", fixes)
                + " (keep it in /etc/sysctl.d/)");
    }
}
