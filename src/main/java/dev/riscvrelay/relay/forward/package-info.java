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
 * holds resets its client and counts it. A UDP forward ({@link dev.riscvrelay.relay.forward.UdpForward}) keeps a flow
 * per outside client, each with a gateway port of its own ({@link dev.riscvrelay.relay.forward.ForwardPorts}); the
 * gateway hands what VMs send to those ports back ({@link dev.riscvrelay.relay.forward.ForwardReturns}).
 *
 * <p>Web previews ({@link dev.riscvrelay.relay.forward.WebPreviews}) reach a VM's web server through the relay's web
 * listeners: a request to {@code /net/NAME/vm/VMADDR:PORT/...} with the network's token becomes one connection to
 * the VM through the same TCP NAT path, the web connection itself serving as the host socket.
 *
 * <p>Everything runs on the relay's event loop; only opening and closing a forward is control plane.
 */
package dev.riscvrelay.relay.forward;
