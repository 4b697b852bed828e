/**
 * WebTransport over HTTP/3 (draft-02, as Chromium and Firefox speak it) on Netty's QUIC codec: each session is a
 * {@link dev.riscvrelay.relay.switching.Port} whose Ethernet frames travel as HTTP/3 datagrams.
 *
 * <p>The codec ({@link dev.riscvrelay.relay.transport.webtransport.QuicVarint},
 * {@link dev.riscvrelay.relay.transport.webtransport.HttpDatagram},
 * {@link dev.riscvrelay.relay.transport.webtransport.Capsules},
 * {@link dev.riscvrelay.relay.transport.webtransport.CapsuleDecoder}) depends only on Netty's {@code ByteBuf}.
 * {@link dev.riscvrelay.relay.transport.webtransport.WebTransportServer} accepts sessions and attaches them to a
 * switch; {@link dev.riscvrelay.relay.transport.webtransport.WebTransportClient} opens one, as a browser would.
 *
 * <p>Frames handed to a session or to the client should sit in a pooled direct buffer with
 * {@link dev.riscvrelay.relay.transport.webtransport.HttpDatagram#HEADROOM} free bytes before the reader index and
 * be held by one owner: the datagram prefix is then written in front of the frame and the buffer goes to the QUIC
 * stack as it is. A received frame keeps its own prefix as headroom, so a unicast forward copies nothing; a flood
 * copies only while the frame is still shared. Count: {@code DATAGRAMS_COPIED}.
 *
 * <p>A session's first datagram decides what its datagrams carry: raw Ethernet frames, or riscv-vm's framed
 * protocol ({@link dev.riscvrelay.relay.transport.framed}) when it is a framed Register. A framed session's frames
 * need one byte more in front ({@code 0x01}); a frame that came from a raw session has exactly its own prefix free,
 * so it is moved up within its buffer rather than copied ({@code FramedDatagrams}). A session whose CONNECT asked
 * for {@link dev.riscvrelay.relay.transport.webtransport.LinkRecovery link recovery} (as {@code relay connect} does)
 * carries a type byte and a sequence number in front of each frame instead, and its frames are copied into the
 * ring it resends from.
 *
 * <p>Facts about Netty 4.2.18 QUIC that shape this package:
 * <ul>
 *   <li>A handler on a {@code QuicChannel} pipeline must pass new {@code QuicStreamChannel}s on with
 *       {@code fireChannelRead}: the pipeline's tail registers them, or the stream never reads.</li>
 *   <li>A datagram larger than quiche allows fails its write with {@code BufferUnderflowException} (counted as
 *       {@code DROP_DATAGRAM_SEND_FAILED}); when quiche's datagram send queue is full, Netty drops every datagram
 *       still pending in the channel with success. Netty binds neither quiche's queue length nor the refusal, so
 *       these drops cannot be counted from here: {@code DatagramBacklog} keeps quiche's queue well short of full,
 *       from quiche's count of bytes sent, and the rest waits in each session's own queue (the client's, upstream),
 *       whose drops are counted ({@code DROP_QUEUE_FULL}).</li>
 *   <li>Packets the kernel refuses (EMSGSIZE, ENOBUFS) fail the UDP channel's write future, which the QUIC codec
 *       does not look at: {@code UdpSendErrors} counts them.</li>
 *   <li>{@code QuicDatagramExtensionEvent.maxLength()} is quiche's datagram limit at one moment of the handshake
 *       (from 1200-byte packets on the server, from the not yet validated probe size on a client) and fires only
 *       once: {@code PathMtuWatch} follows the size path MTU discovery has validated instead.</li>
 *   <li>{@code collectPathStats(i)} lists a connection's paths by position, and the first stays the path the
 *       client came from after its address changed: {@code ActivePath} finds the one in use.</li>
 *   <li>The QUIC codec sends what a read called for only at the read's {@code channelReadComplete}; Netty's
 *       {@code QuicCodecDispatcher} could let the owner's own read end first, so {@code QuicPacketHandOver} steers
 *       packets between workers instead.</li>
 *   <li>Netty sends a connection's packets to the address its last packet came from, and takes quiche's address
 *       only when two packets in a row name different ones. When a client's address changes, a packet from the old
 *       address that arrives after the first from the new one (in flight at the change, or read by another worker's
 *       socket) turns the packets after it back to the old address, where nobody listens, until the client's next
 *       packet: datagrams sent meanwhile are lost (seen in one of some hundred rebinds under load in
 *       {@code WorkersIT}).</li>
 *   <li>Netty has no QUIC keep-alive; a session sends a GREASE capsule (which Chromium and Firefox skip) on its
 *       CONNECT stream instead, which restarts both peers' idle timers.</li>
 * </ul>
 */
package dev.riscvrelay.relay.transport.webtransport;
