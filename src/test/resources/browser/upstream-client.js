"use strict";
// Two LAN members in one page. "upstream" speaks riscv-vm's framed protocol as its WebTransport backend does:
// 0x00 + JSON control ({"type":"Register","mac":[...]} first, then Heartbeats), 0x01 + one Ethernet frame, and
// frames over 950 bytes as 0x02 chunks (chunk id u16 big-endian, index, count, 900-byte payloads). "raw" sends one
// Ethernet frame per datagram. Both answer ARP and ping for their address, before and after the report, so the
// test can ping them from a host on the LAN. Query: relay=HOST:PORT, cert=HEX, peer=IP (a host on the LAN to
// ping; optional), rawIp=IP (the raw member's static address).

(async () => {
  const F = EthernetFrames;
  const query = new URLSearchParams(location.search);
  const url = "https://" + query.get("relay");
  const hash = new Uint8Array(query.get("cert").match(/.{2}/g).map((h) => parseInt(h, 16)));
  const report = { steps: {}, errors: [] };
  const post = (path, body) => fetch(path, { method: "POST", body });
  const log = (line) => post("/log", line);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const macBytes = (mac) => mac.split(":").map((h) => parseInt(h, 16));
  const ipString = (bytes) => bytes.join(".");

  class Member {
    constructor(label, framed, mac, ip) {
      Object.assign(this, { label, framed, mac, ip, frames: [], controls: [], waiters: [], chunkId: 0 });
      this.chunks = new Map();
      this.answered = { arp: 0, echo: 0 };
    }

    async connect() {
      this.transport = new WebTransport(url, { serverCertificateHashes: [{ algorithm: "sha-256", value: hash }] });
      await this.transport.ready;
      this.reader = this.transport.datagrams.readable.getReader();
      this.writer = this.transport.datagrams.writable.getWriter();
      this.closed = false;
      this.transport.closed.then(() => (this.closed = true), () => (this.closed = true));
      this.readLoop();
    }

    async readLoop() {
      try {
        for (;;) {
          const { value, done } = await this.reader.read();
          if (done) return;
          this.onDatagram(value);
        }
      } catch (e) {
        // the session ended
      }
    }

    onDatagram(d) {
      if (!this.framed) return this.onFrame(d);
      if (d.length === 0) return;
      if (d[0] === 0x00) {
        const text = new TextDecoder().decode(d.subarray(1));
        this.controls.push({ text, message: JSON.parse(text) });
        this.notify();
      } else if (d[0] === 0x01) {
        this.onFrame(d.subarray(1));
      } else if (d[0] === 0x02 && d.length > 5) {
        const id = (d[1] << 8) | d[2], index = d[3], count = d[4];
        const parts = this.chunks.get(id) ?? new Array(count);
        parts[index] = d.slice(5);
        this.chunks.set(id, parts);
        if (parts.filter((p) => p).length === count) {
          this.chunks.delete(id);
          const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let at = 0;
          for (const p of parts) { whole.set(p, at); at += p.length; }
          this.onFrame(whole);
        }
      }
    }

    onFrame(frame) {
      const f = F.parse(frame);
      if (this.ip && f.arp && f.arp.op === 1 && f.arp.targetIp === this.ip) {
        this.answered.arp++;
        this.send(F.arpReply(this.mac, this.ip, f.arp.senderMac, f.arp.senderIp));
        return;
      }
      if (this.ip && f.icmp && f.icmp.type === 8 && f.ipv4.dst === this.ip) {
        this.answered.echo++;
        this.send(echoReply(frame));
        return;
      }
      this.frames.push({ f, length: frame.length });
      this.notify();
    }

    notify() {
      for (const w of this.waiters.splice(0)) w();
    }

    /** The first item of list (frames or controls) matching test, waiting up to ms for it. */
    async waitFor(list, test, ms, what) {
      const deadline = performance.now() + ms;
      for (;;) {
        const i = this[list].findIndex(test);
        if (i >= 0) return this[list].splice(i, 1)[0];
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(this.label + ": no " + what + " within " + ms + " ms");
        await new Promise((r) => { this.waiters.push(r); setTimeout(r, left); });
      }
    }

    send(frame) {
      if (!this.framed) return this.writer.write(frame);
      if (frame.length <= 950) {
        const d = new Uint8Array(1 + frame.length);
        d[0] = 0x01;
        d.set(frame, 1);
        return this.writer.write(d);
      }
      const id = this.chunkId++ & 0xffff;
      const count = Math.ceil(frame.length / 900);
      for (let i = 0; i < count; i++) {
        const part = frame.subarray(i * 900, Math.min(frame.length, (i + 1) * 900));
        const d = new Uint8Array(5 + part.length);
        d.set([0x02, id >> 8, id & 0xff, i, count]);
        d.set(part, 5);
        this.writer.write(d);
      }
    }

    control(message) {
      const json = new TextEncoder().encode(JSON.stringify(message));
      const d = new Uint8Array(1 + json.length);
      d.set(json, 1);
      return this.writer.write(d);
    }

    async resolve(ip) {
      this.send(F.arpRequest(this.mac, this.ip, ip));
      const reply = await this.waitFor("frames", (x) => x.f.arp && x.f.arp.op === 2 && x.f.arp.senderIp === ip,
          3000, "ARP reply from " + ip);
      return reply.f.arp.senderMac;
    }

    async ping(ip, mac, payloadBytes, srcIp) {
      const id = Math.floor(Math.random() * 65536), seq = 1;
      const payload = new Uint8Array(payloadBytes).map((_, i) => i & 0xff);
      const request = F.icmpEchoRequest(this.mac, mac, srcIp ?? this.ip, ip, id, seq, payload);
      const started = performance.now();
      this.send(request);
      const reply = await this.waitFor("frames", (x) => x.f.icmp && x.f.icmp.type === 0 && x.f.icmp.id === id
          && x.f.ipv4.src === ip, 3000, "echo reply from " + ip);
      return { rttMs: performance.now() - started, requestBytes: request.length, replyBytes: reply.length,
        checksumValid: reply.f.icmp.checksumValid };
    }
  }

  /** The echo reply to an echo request frame: addresses swapped, type 0, checksums fixed. */
  function echoReply(request) {
    const r = request.slice();
    r.set(request.subarray(6, 12), 0);
    r.set(request.subarray(0, 6), 6);
    r.set(request.subarray(30, 34), 26);
    r.set(request.subarray(26, 30), 30);
    const ihl = (r[14] & 0x0f) * 4, icmp = 14 + ihl;
    const ipLength = (r[16] << 8) | r[17];
    r[24] = r[25] = 0;
    const ipSum = F.internetChecksum(r, 14, ihl);
    r[24] = ipSum >> 8; r[25] = ipSum & 0xff;
    r[icmp] = 0;
    r[icmp + 2] = r[icmp + 3] = 0;
    const sum = F.internetChecksum(r, icmp, ipLength - ihl);
    r[icmp + 2] = sum >> 8; r[icmp + 3] = sum & 0xff;
    return r;
  }

  async function step(name, body) {
    try {
      report.steps[name] = (await body()) ?? true;
    } catch (e) {
      report.steps[name] = false;
      report.errors.push(name + ": " + e);
      log("step " + name + " failed: " + e);
    }
  }

  const randomByte = () => Math.floor(Math.random() * 256).toString(16).padStart(2, "0");
  const upstreamMac = "52:54:" + [0, 0, 0, 0].map(randomByte).join(":");
  const upstream = new Member("upstream", true, upstreamMac, null);
  const raw = new Member("raw", false, F.randomLocalMac(), query.get("rawIp"));
  const peer = query.get("peer");
  let second = null;
  const watchdog = setTimeout(() => { report.errors.push("watchdog"); post("/report", JSON.stringify(report)); },
      50000);

  await step("register", async () => {
    await upstream.connect();
    await upstream.control({ type: "Register", mac: macBytes(upstreamMac) });
    const assigned = await upstream.waitFor("controls", (c) => c.message.type === "Assigned", 5000, "Assigned");
    upstream.ip = ipString(assigned.message.ip);
    report.assigned = assigned.message;
    report.assignedJson = assigned.text;
    report.upstreamMac = upstreamMac;
    return true;
  });
  await step("heartbeat", async () => {
    await upstream.control({ type: "Heartbeat" });
    await upstream.waitFor("controls", (c) => c.message.type === "HeartbeatAck", 3000, "HeartbeatAck");
    return true;
  });
  let gatewayMac = null;
  await step("gateway", async () => {
    gatewayMac = await upstream.resolve("10.0.2.2");
    return { mac: gatewayMac, ping: await upstream.ping("10.0.2.2", gatewayMac, 56) };
  });
  await step("chunkedPing", async () => upstream.ping("10.0.2.2", gatewayMac, 1157));
  await step("rawJoins", async () => {
    await raw.connect();
    return true;
  });
  await step("rawToUpstream", async () => {
    const mac = await raw.resolve(upstream.ip);
    return { mac, ping: await raw.ping(upstream.ip, mac, 56) };
  });
  await step("upstreamToRaw", async () => {
    const mac = await upstream.resolve(raw.ip);
    return { mac, ping: await upstream.ping(raw.ip, mac, 56), big: await upstream.ping(raw.ip, mac, 1157) };
  });
  if (peer) await step("upstreamToHost", async () => {
    const mac = await upstream.resolve(peer);
    return { mac, ping: await upstream.ping(peer, mac, 56) };
  });
  await step("framedToFramed", async () => {
    // A second framed client; 1500-byte IP packets (1514-byte frames) both ways, as two riscv-vm guests send them:
    // chunked by the clients, reassembled by the relay, and chunked again by the relay towards the other client.
    const mac = "52:54:" + [0, 0, 0, 0].map(randomByte).join(":");
    second = new Member("second", true, mac, null);
    await second.connect();
    await second.control({ type: "Register", mac: macBytes(mac) });
    const assigned = await second.waitFor("controls", (c) => c.message.type === "Assigned", 5000, "Assigned");
    second.ip = ipString(assigned.message.ip);
    const secondMac = await upstream.resolve(second.ip);
    return { ip: second.ip, mac: secondMac, ping: await upstream.ping(second.ip, secondMac, 1472) };
  });
  await step("spoofedSourceSent", async () => {
    // A source address that is not the one assigned: the relay's anti-spoofing drops it before the gateway.
    upstream.send(F.icmpEchoRequest(upstream.mac, gatewayMac, "10.0.2.199", "10.0.2.2", 7, 7, new Uint8Array(8)));
    return true;
  });
  await step("sameMacElsewhere", async () => {
    const thief = new Member("thief", true, upstreamMac, null);
    await thief.connect();
    await thief.control({ type: "Register", mac: macBytes(upstreamMac) });
    const error = await thief.waitFor("controls", (c) => c.message.type === "Error", 3000, "Error");
    for (let i = 0; i < 50 && !thief.closed; i++) await sleep(100);
    return { message: error.message.message, closed: thief.closed };
  });
  report.answered = { upstream: upstream.answered, raw: raw.answered };
  report.rawIp = raw.ip;
  clearTimeout(watchdog);
  await post("/report", JSON.stringify(report));
  // Stay on the LAN, answering ARP and ping, and keep the heartbeat going, until the test closes the browser.
  setInterval(() => upstream.control({ type: "Heartbeat" }), 15000);
})();
