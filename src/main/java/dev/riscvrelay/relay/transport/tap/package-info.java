/**
 * Local LAN members for {@code relay connect}: a Linux TAP device, or a QEMU's socket network backend.
 *
 * <h2>TAP ({@link dev.riscvrelay.relay.transport.tap.TapDevice}, {@link dev.riscvrelay.relay.transport.tap.TapPort})</h2>
 * {@code /dev/net/tun} through the FFM API with {@code IFF_TAP | IFF_NO_PI}: one read or write is one Ethernet
 * frame without FCS. Needs CAP_NET_ADMIN (or a persistent TAP owned by the user). A TAP lives in the network
 * namespace of the thread that created it. To put a host in another namespace on the LAN, either
 * <ul>
 *   <li>create and open it here, then {@code ip link set TAP netns NS [name eth0]}: the open descriptor keeps
 *       working, but the move takes the link down and keeps the MTU, so bring it up inside NS; or</li>
 *   <li>{@code TapDevice.openInNamespace(/run/netns/NS, ...)}: a short-lived platform thread calls setns(2)
 *       (which changes only that thread), creates and configures the TAP there, and the descriptor is then used
 *       from any thread in the root namespace. Needs CAP_SYS_ADMIN.</li>
 * </ul>
 * A reader blocked in read(2) is not woken by close(2) of the descriptor, so the device is non-blocking and
 * readers wait in poll(2) on the TAP and an eventfd that {@code close()} signals.
 *
 * <h2>QEMU socket backends (as offered by QEMU 7.2, Debian 12)</h2>
 * {@code qemu-system-x86_64 -netdev help} lists {@code socket}, {@code stream} and {@code dgram} (the latter two
 * are new in 7.2):
 * <ul>
 *   <li>{@code -netdev dgram,id=n0,local.type=inet,local.host=H,local.port=P,remote.type=inet,remote.host=H,
 *       remote.port=R} (also {@code type=unix} with {@code path=}, or {@code type=fd}): one UDP datagram per
 *       frame, no prefix. {@code remote} is required for inet and unix. Stateless, no privileges, either side may
 *       restart: the best fit, served by {@link dev.riscvrelay.relay.transport.tap.QemuDgramEndpoint}. The older
 *       {@code -netdev socket,udp=R,localaddr=L} uses the same framing.</li>
 *   <li>{@code -netdev stream,id=n0,server=on|off,addr.type=inet,addr.host=H,addr.port=P} (or unix, fd): one TCP
 *       (or unix stream) connection, each frame preceded by a 4-byte big-endian length. 7.2 has no
 *       {@code reconnect=} ("Parameter 'reconnect' is unexpected"), and a client-mode stream whose connect fails
 *       stays silently unconnected, so let QEMU listen ({@code server=on}) and connect to it:
 *       {@link dev.riscvrelay.relay.transport.tap.QemuStreamEndpoint}. The older {@code -netdev socket,listen=}
 *       / {@code connect=} uses the same framing.</li>
 * </ul>
 * Frames above the configured limit are dropped whole and counted, in both endpoints as in the TAP.
 */
package dev.riscvrelay.relay.transport.tap;
