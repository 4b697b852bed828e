/**
 * The user-space NAT behind the gateway: VMs reach the outside through ordinary host sockets.
 *
 * <p><b>How the gateway uses it.</b> Build one {@link dev.riscvrelay.relay.nat.Nat} per switch event loop with the
 * network's {@link dev.riscvrelay.relay.lan.NetworkConfig}, a {@link dev.riscvrelay.relay.nat.NatConfig}, an
 * {@link dev.riscvrelay.relay.nat.EgressPolicy}
 * ({@code EgressPolicy.forThisHost(new EgressRules(allow, deny))}), that event loop, a
 * {@link dev.riscvrelay.relay.lan.FrameSink} (e.g. {@code frame -> sw.forwardFromOutside(gatewayPort, frame)}), the
 * counters, {@link dev.riscvrelay.relay.lan.NanoClock#SYSTEM} and an allocator; call {@code start()}. For every
 * valid IPv4 packet from a VM that is not for the gateway itself, call {@code onPacket(ethernetView, ipv4View)} on
 * that loop; the caller keeps (and later releases) the frame.
 *
 * <ul>
 *   <li>Egress policy first: a denied destination gets ICMP destination unreachable, code 13 (communication
 *       administratively prohibited), from the gateway address. Most specific prefix wins; see
 *       {@link dev.riscvrelay.relay.nat.EgressPolicy}. {@link dev.riscvrelay.relay.nat.Ipv6EgressPolicy} states the
 *       same rule for IPv6 destinations ({@code --allow}/{@code --deny} with IPv6 prefixes); a denied IPv6 packet is
 *       answered by the gateway with ICMPv6 code 1 (administratively prohibited), rate limited.</li>
 *   <li>IPv6 ({@code onPacket6}, from the gateway's IPv6 side): the same three protocols through the same flow
 *       sets, limits and counters, over host IPv6 sockets (ICMPv6 echo through {@code IPPROTO_ICMPV6} ping
 *       sockets). A VM's source must be in the LAN's /64; extension headers are not walked. Where the host has no
 *       route (ENETUNREACH), the VM gets ICMPv6 no route.</li>
 *   <li>IPv4 datagrams VMs send in fragments reach the NAT whole: the gateway reassembles them first. IPv6
 *       fragments from VMs are dropped and counted. A UDP datagram or an echo reply larger than the LAN MTU goes to
 *       the VM in fragments, IPv4 or IPv6 ({@link dev.riscvrelay.relay.nat.VmFrames}).</li>
 *   <li>UDP: one connected host socket per (VM address, VM port, destination address, destination port);
 *       {@link dev.riscvrelay.relay.nat.udp.UdpNat}.</li>
 *   <li>ICMP echo: one connected unprivileged ping socket per (VM address, echo identifier, destination), needs
 *       {@code net.ipv4.ping_group_range} to include the relay's group and the epoll transport;
 *       {@link dev.riscvrelay.relay.nat.icmp.IcmpNat}.</li>
 *   <li>TCP: terminated per connection ({@link dev.riscvrelay.relay.nat.tcp.TcpNat}): the VM's SYN starts a
 *       non-blocking host connect and is answered (SYN-ACK, RST or ICMP host unreachable) only when that ends; the
 *       VM-facing side retransmits, recovers and flow-controls like a TCP endpoint over the lossy LAN. Limits,
 *       timeouts and buffers: {@link dev.riscvrelay.relay.nat.tcp.TcpConfig}; MSS = LAN MTU - 40.</li>
 * </ul>
 *
 * <p>All state belongs to the one event loop: no locks; flow keys are packed into {@code long}s (two for IPv4,
 * four for IPv6: {@link dev.riscvrelay.relay.nat.FlowKey}) and folded
 * into one for a {@link dev.riscvrelay.relay.lan.LongTable}; expiry reads an injected clock. Each protocol keeps its
 * flows in a {@link dev.riscvrelay.relay.nat.FlowSet} (table, per-VM and total limits, idle sweep); UDP and ICMP flows are
 * {@link dev.riscvrelay.relay.nat.DatagramFlow}s, one connected host datagram socket each.
 */
package dev.riscvrelay.relay.nat;
