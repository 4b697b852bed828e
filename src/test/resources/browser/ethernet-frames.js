"use strict";
// Raw Ethernet II frames built and parsed by hand, the way a browser VM's NIC sees them (no FCS, no padding).
// Only what the browser tests need: ARP (RFC 826), IPv4 (RFC 791), ICMP echo (RFC 792), a raw frame.

const EthernetFrames = (() => {
  const ETHERTYPE_IPV4 = 0x0800;
  const ETHERTYPE_ARP = 0x0806;
  // IEEE 802 "Local Experimental Ethertype 1": frames between test sessions that no gateway will answer.
  const ETHERTYPE_EXPERIMENT = 0x88b5;
  const BROADCAST = "ff:ff:ff:ff:ff:ff";

  function macBytes(mac) {
    const parts = mac.split(":").map((h) => parseInt(h, 16));
    if (parts.length !== 6 || parts.some((b) => !(b >= 0 && b <= 255))) throw new Error("bad MAC " + mac);
    return parts;
  }
  function macString(bytes, offset) {
    const out = [];
    for (let i = 0; i < 6; i++) out.push(bytes[offset + i].toString(16).padStart(2, "0"));
    return out.join(":");
  }
  function ipBytes(ip) {
    const parts = ip.split(".").map(Number);
    if (parts.length !== 4 || parts.some((b) => !(b >= 0 && b <= 255))) throw new Error("bad IPv4 " + ip);
    return parts;
  }
  function ipString(bytes, offset) {
    return [0, 1, 2, 3].map((i) => bytes[offset + i]).join(".");
  }

  /** A locally administered (bit 1), unicast (bit 0 clear) MAC: 02:xx:xx:xx:xx:xx, random per session. */
  function randomLocalMac() {
    const b = new Uint8Array(6);
    crypto.getRandomValues(b);
    b[0] = 0x02;
    return macString(b, 0);
  }

  /** RFC 1071 one's complement sum over bytes[offset, offset+length), folded, complemented. */
  function internetChecksum(bytes, offset, length) {
    let sum = 0;
    for (let i = 0; i + 1 < length; i += 2) sum += (bytes[offset + i] << 8) | bytes[offset + i + 1];
    if (length & 1) sum += bytes[offset + length - 1] << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    return ~sum & 0xffff;
  }

  function ethernetHeader(frame, dstMac, srcMac, ethertype) {
    frame.set(macBytes(dstMac), 0);
    frame.set(macBytes(srcMac), 6);
    frame[12] = ethertype >> 8;
    frame[13] = ethertype & 0xff;
  }

  /** A frame of exactly totalLength bytes: header, then payload bytes, then zero fill. */
  function rawFrame(dstMac, srcMac, ethertype, payload, totalLength) {
    const length = totalLength ?? 14 + payload.length;
    if (length < 14 + payload.length) throw new Error("payload does not fit in " + length + " bytes");
    const frame = new Uint8Array(length);
    ethernetHeader(frame, dstMac, srcMac, ethertype);
    frame.set(payload, 14);
    return frame;
  }

  function arp(op, senderMac, senderIp, targetMac, targetIp, ethDst) {
    const frame = new Uint8Array(42);
    ethernetHeader(frame, ethDst, senderMac, ETHERTYPE_ARP);
    frame.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, op], 14); // Ethernet, IPv4, hlen 6, plen 4, opcode
    frame.set(macBytes(senderMac), 22);
    frame.set(ipBytes(senderIp), 28);
    frame.set(macBytes(targetMac), 32);
    frame.set(ipBytes(targetIp), 38);
    return frame;
  }
  const arpRequest = (senderMac, senderIp, targetIp) =>
    arp(1, senderMac, senderIp, "00:00:00:00:00:00", targetIp, BROADCAST);
  const arpReply = (senderMac, senderIp, targetMac, targetIp) =>
    arp(2, senderMac, senderIp, targetMac, targetIp, targetMac);

  /** An ICMP echo request in IPv4 in Ethernet; the ICMP data is `payload`, both checksums computed. */
  function icmpEchoRequest(srcMac, dstMac, srcIp, dstIp, id, seq, payload) {
    const ipLength = 20 + 8 + payload.length;
    const frame = new Uint8Array(14 + ipLength);
    ethernetHeader(frame, dstMac, srcMac, ETHERTYPE_IPV4);
    const ip = 14;
    frame[ip] = 0x45; // version 4, IHL 5
    frame[ip + 2] = ipLength >> 8;
    frame[ip + 3] = ipLength & 0xff;
    frame[ip + 4] = (id >> 8) & 0xff; // identification: anything unique enough
    frame[ip + 5] = seq & 0xff;
    frame[ip + 6] = 0x40; // DF
    frame[ip + 8] = 64; // TTL
    frame[ip + 9] = 1; // ICMP
    frame.set(ipBytes(srcIp), ip + 12);
    frame.set(ipBytes(dstIp), ip + 16);
    const ipSum = internetChecksum(frame, ip, 20);
    frame[ip + 10] = ipSum >> 8;
    frame[ip + 11] = ipSum & 0xff;
    const icmp = ip + 20;
    frame[icmp] = 8; // echo request
    frame[icmp + 4] = id >> 8;
    frame[icmp + 5] = id & 0xff;
    frame[icmp + 6] = seq >> 8;
    frame[icmp + 7] = seq & 0xff;
    frame.set(payload, icmp + 8);
    const icmpSum = internetChecksum(frame, icmp, 8 + payload.length);
    frame[icmp + 2] = icmpSum >> 8;
    frame[icmp + 3] = icmpSum & 0xff;
    return frame;
  }

  /** Parses what the tests look at; fields are absent when the frame is too short for them. */
  function parse(frame) {
    const f = { length: frame.length };
    if (frame.length < 14) return f;
    f.dst = macString(frame, 0);
    f.src = macString(frame, 6);
    f.ethertype = (frame[12] << 8) | frame[13];
    if (f.ethertype === ETHERTYPE_ARP && frame.length >= 42) {
      f.arp = {
        op: (frame[20] << 8) | frame[21],
        senderMac: macString(frame, 22),
        senderIp: ipString(frame, 28),
        targetMac: macString(frame, 32),
        targetIp: ipString(frame, 38),
      };
    } else if (f.ethertype === ETHERTYPE_IPV4 && frame.length >= 34) {
      const ip = 14;
      const ihl = (frame[ip] & 0x0f) * 4;
      const totalLength = (frame[ip + 2] << 8) | frame[ip + 3];
      f.ipv4 = {
        version: frame[ip] >> 4,
        ihl,
        totalLength,
        protocol: frame[ip + 9],
        src: ipString(frame, ip + 12),
        dst: ipString(frame, ip + 16),
        headerChecksumValid: ihl >= 20 && frame.length >= ip + ihl && internetChecksum(frame, ip, ihl) === 0,
      };
      const icmp = ip + ihl;
      if (f.ipv4.protocol === 1 && totalLength >= ihl + 8 && frame.length >= ip + totalLength) {
        const icmpLength = totalLength - ihl;
        f.icmp = {
          type: frame[icmp],
          code: frame[icmp + 1],
          id: (frame[icmp + 4] << 8) | frame[icmp + 5],
          seq: (frame[icmp + 6] << 8) | frame[icmp + 7],
          checksumValid: internetChecksum(frame, icmp, icmpLength) === 0,
          data: frame.subarray(icmp + 8, ip + totalLength),
        };
      }
    }
    return f;
  }

  return {
    ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_EXPERIMENT, BROADCAST,
    randomLocalMac, internetChecksum, rawFrame, arpRequest, arpReply, icmpEchoRequest, parse,
  };
})();
