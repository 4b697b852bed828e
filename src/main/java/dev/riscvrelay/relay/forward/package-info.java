/**
 * Port forwards: outside clients reach a server inside a VM, as with slirp's {@code hostfwd} and passt's
 * {@code -t}/{@code -u}.
 *
 * <p>{@link dev.riscvrelay.relay.forward.Forwards} holds the open forwards (from {@code --forward} and the admin
 * API), each a {@link dev.riscvrelay.relay.forward.ForwardSpec}. A TCP forward
 * ({@link dev.riscvrelay.relay.forward.TcpForward}) listens outside and hands each accepted socket to the network's
 * TCP NAT, which dials the VM from the gateway's address through the same RFC 9293 endpoint that carries the VM's own
 * connections (its active open); limits and counters are the NAT's. The VM's MAC comes from the gateway's ARP
 * cache, asked for when unknown ({@link dev.riscvrelay.relay.forward.GuestLookup}); a forward to an address nobody
 * holds resets its client and counts it. Everything runs on the relay's event loop; only opening and closing a
 * forward is control plane.
 */
package dev.riscvrelay.relay.forward;
