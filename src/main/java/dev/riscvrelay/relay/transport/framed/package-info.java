/**
 * The framed protocol of trust0-project's riscv-vm, spoken beside raw frames on WebTransport sessions: a RISC-V VM
 * compiled to WebAssembly joins the LAN with its stock WebTransport backend, unchanged.
 *
 * <h2>Wire facts this code relies on, and where they come from</h2>
 * From trust0-project/bavy-relay {@code src/protocol.rs} (the relay's side), {@code src/hub.rs} and
 * {@code src/main.rs}, and trust0-project/bavy {@code riscv-vm/src/net/webtransport.rs} (the client the riscv-vm
 * package ships):
 * <ul>
 *   <li>Every WebTransport datagram payload starts with a type byte: {@code 0x00} a control message, the rest of
 *       the datagram JSON; {@code 0x01} one Ethernet frame; {@code 0x02} a chunk of a frame (client only).</li>
 *   <li>Control messages are serde's internally tagged enum ({@code #[serde(tag = "type")]}): an object whose
 *       {@code "type"} is the variant name, exactly {@code Register{mac}}, {@code Assigned{ip,gateway,netmask,dns}},
 *       {@code Heartbeat}, {@code HeartbeatAck}, {@code Disconnect}, {@code Error{message}},
 *       {@code PeerList{peers:[{ip,mac}]}}. {@code mac} is {@code [u8; 6]} and the addresses {@code [u8; 4]}:
 *       JSON arrays of numbers, e.g. {@code {"type":"Register","mac":[82,84,0,171,205,239]}}. Unknown fields are
 *       ignored (no {@code deny_unknown_fields}).</li>
 *   <li>The client sends Register as its first datagram once the session is ready
 *       ({@code make_register_message}), then a Heartbeat every 15 s ({@code HEARTBEAT_INTERVAL_SECS}); it never
 *       sends Register again on that session. The upstream relay answers Register with Assigned (address from its
 *       pool, gateway, netmask, DNS) or, when its pool is empty, with {@code Error{"IP pool exhausted"}} and ends the
 *       connection; Heartbeat with HeartbeatAck; Disconnect by dropping the peer. PeerList is optional and never
 *       sent here.</li>
 *   <li>The client finds Assigned and its address by substring search ({@code "type":"Assigned"}, {@code "ip":[}
 *       in {@code parse_ip_from_json}): JSON to the client must be compact, as serde writes it. Its guest reads the
 *       address from a device register, not DHCP, so without Assigned it has none.</li>
 *   <li>Chunks ({@code encode_chunked_frame}): {@code 0x02}, chunk id (u16 big-endian, one per frame, wrapping),
 *       chunk index (u8), chunk count (u8), then the payload; frames over 950 bytes ({@code CHUNK_THRESHOLD}) go
 *       in chunks of 900 bytes ({@code MAX_CHUNK_PAYLOAD}). The client reassembles {@code 0x02} from the relay too,
 *       and takes a {@code 0x01} datagram of any size.</li>
 * </ul>
 *
 * <h2>Which protocol a session speaks</h2>
 * A session's first datagram decides, for the session's life: {@code 0x00} followed by JSON that is a valid
 * Register makes it framed; anything else leaves it raw, and that datagram is its first frame. A raw Ethernet frame
 * may well start with {@code 0x00}, {@code 0x01} or {@code 0x02} (a unicast MAC of an OUI starting 00, IPv4
 * multicast 01:00:5e, a locally administered 02:...), but after a {@code 0x00} it would have to continue with
 * {@code {"type":"Register"...}} to its last byte, where a frame has the rest of its destination MAC, a source MAC
 * and an EtherType: no frame a VM sends does. The upstream client always registers first, so nothing else is
 * needed; a client whose Register is lost gets no address from the upstream relay either.
 *
 * <h2>What the relay does for a framed session</h2>
 * Register: the MAC is bound to the session like the source MAC of its first frame (so anti-spoofing applies), unless
 * another live session holds it, and the VM is told the address a DHCP client with that MAC (and no client
 * identifier) would get from the network's pool, leased to it and held by the session: lease limits per session and
 * per client address, the grace time after the session ends, and adoption by a reconnecting session all apply as to
 * DHCP. Gateway, netmask and DNS are the network's (10.0.2.2, /24, 10.0.2.3 by default). A refusal is an Error
 * message, then the session ends, as upstream. Each Heartbeat is answered and renews the lease. Frames to the
 * session are {@code 0x01} + frame, built in the frame's headroom; a frame larger than one datagram on the path
 * (up to {@link dev.riscvrelay.relay.transport.framed.FramedSession#MAX_FRAME} bytes: the client's guest sends
 * 1500-byte packets) goes in 900-byte chunks instead, while the NAT keeps its TCP segments to one datagram; chunks
 * from the client are reassembled within fixed bounds ({@link dev.riscvrelay.relay.transport.framed.ChunkReassembly}). Every datagram that cannot be used is
 * dropped and counted by reason ({@code relay_drops_total{reason="framed_..."}}).
 */
package dev.riscvrelay.relay.transport.framed;
