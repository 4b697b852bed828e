/**
 * WISP (MercuryWorkshop's wisp-protocol, v1 and v2 with its password extension) on the relay's web listeners: a
 * browser client's TCP and UDP streams multiplexed on one WebSocket at {@code /wisp/} or {@code /net/NAME/wisp/},
 * each carried by a host socket of the relay. {@link dev.riscvrelay.relay.transport.wisp.WispRequest} claims the
 * upgrade (the network's gate: token, per-address and network limits),
 * {@link dev.riscvrelay.relay.transport.wisp.WispConnection} speaks the protocol on the WebSocket, and each
 * {@link dev.riscvrelay.relay.transport.wisp.WispStream} resolves its destination off the loop, applies the
 * network's egress policy, takes its socket from the host budget and enforces the CONTINUE credit. Streams are not
 * LAN members: no frame of theirs crosses a switch. Everything runs on the relay's event loop but name resolution.
 */
package dev.riscvrelay.relay.transport.wisp;
