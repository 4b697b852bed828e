package dev.riscvrelay.relay.testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What real DHCP clients need in a test namespace. */
public final class DhcpClients {

    /**
     * A busybox {@code udhcpc} script that applies a lease the way a distribution's default.script does: address,
     * MTU (option 26), default route, resolvers (into the namespace's own resolv.conf, see
     * {@link NetnsTestBed.Namespace#privateResolvConf()}).
     */
    public static final String UDHCPC_SCRIPT = """
            #!/bin/sh
            case "$1" in
              bound|renew)
                ip addr flush dev "$interface"
                ip addr add "$ip/$subnet" dev "$interface"
                [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
                for r in $router; do ip route add default via "$r" dev "$interface"; done
                : > /etc/resolv.conf
                for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
                ;;
            esac
            exit 0
            """;

    private DhcpClients() {
    }

    /** Writes {@link #UDHCPC_SCRIPT} as an executable file in {@code dir}. */
    public static Path writeUdhcpcScript(Path dir) throws IOException {
        Path script = Files.writeString(dir.resolve("udhcpc.script"), UDHCPC_SCRIPT);
        if (!script.toFile().setExecutable(true)) {
            throw new IOException("cannot make " + script + " executable");
        }
        return script;
    }
}
