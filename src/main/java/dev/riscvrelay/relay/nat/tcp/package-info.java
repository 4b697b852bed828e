/**
 * The TCP NAT: each connection a VM opens is terminated here and carried over an ordinary host socket; a connection
 * forwarded from outside ({@link dev.riscvrelay.relay.nat.tcp.TcpNat#connectToVm}) is the same, the other way round:
 * the endpoint dials the VM from the gateway's address (its active open) and the outside client's socket is the host
 * socket.
 *
 * <p><b>Shape.</b> {@link dev.riscvrelay.relay.nat.tcp.TcpNat} parses and checks segments, keeps the connections
 * in a flow table and opens host sockets. Each connection is a
 * {@link dev.riscvrelay.relay.nat.tcp.TcpEndpoint}: the RFC 9293 state machine toward the VM, free of I/O and of
 * clocks, driven by events that carry the time, with {@code deadline()} saying when it next needs to run. Around
 * it:
 * <ul>
 *   <li>{@link dev.riscvrelay.relay.nat.tcp.TcpSender}: send sequence space over the
 *       {@link dev.riscvrelay.relay.nat.tcp.SendBuffer}, {@link dev.riscvrelay.relay.nat.tcp.Cubic CUBIC}'s window,
 *       NewReno's fast recovery with the VM's SACK blocks steering it
 *       ({@link dev.riscvrelay.relay.nat.tcp.SackScoreboard}), retransmission timeout
 *       ({@link dev.riscvrelay.relay.nat.tcp.RttEstimator}) and zero-window probes;</li>
 *   <li>{@link dev.riscvrelay.relay.nat.tcp.TcpReceiver}: receive sequence space, the window offered (what the
 *       host socket still takes), the {@link dev.riscvrelay.relay.nat.tcp.ReassemblyQueue} and its SACK blocks;</li>
 *   <li>{@link dev.riscvrelay.relay.nat.tcp.TcpTimer}: the one deadline (retransmission, probe or TIME_WAIT);</li>
 *   <li>{@link dev.riscvrelay.relay.nat.tcp.VmSegments}: the frames toward the VM;</li>
 *   <li>{@link dev.riscvrelay.relay.nat.tcp.TcpHost}: what the endpoint asks of the host side, implemented by
 *       {@link dev.riscvrelay.relay.nat.tcp.TcpHostSocket}, the Netty handler that feeds the endpoint and keeps one
 *       Netty timer at its deadline.</li>
 * </ul>
 *
 * <p>Tests drive the endpoint on virtual time with a fake host ({@code EndpointHarness}); the Netty adapter is
 * tested against real loopback sockets and, end to end, against a Linux stack in a namespace.
 */
package dev.riscvrelay.relay.nat.tcp;
