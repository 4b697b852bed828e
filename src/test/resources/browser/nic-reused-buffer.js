"use strict";
// Drives the demo page's WebTransportNic (relay-vm.js) the way v86's NE2000 does: every frame it hands over is a
// view into one transmit buffer that the next frame overwrites, and a busy guest hands over many frames within one
// turn of the event loop. Evaluated (after ethernet-frames.js) in a page of the relay's own origin; resolves to a
// JSON summary of which pings the gateway answered.
(async () => {
  const COUNT = 64;
  const IP = "10.0.2.77";
  const GATEWAY = "10.0.2.2";
  const ID = 0x4e32;

  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/relay-vm.js";
    script.onload = resolve;
    script.onerror = () => reject(new Error("/relay-vm.js did not load"));
    document.documentElement.appendChild(script);
  });
  const info = await (await fetch("/relay.json")).json();

  let send = null;
  const received = [];
  let arrival = null; // resolves the current wait when a frame comes in
  const emulator = {
    add_listener(name, listener) {
      if (name === "net0-send") send = listener;
    },
    bus: {
      send(name, frame) {
        if (name !== "net0-receive") return;
        received.push(EthernetFrames.parse(new Uint8Array(frame)));
        if (arrival) arrival();
      },
    },
  };
  const log = [];
  const nic = new WebTransportNic(emulator, [location.origin + "/"], info.certificateHash, (text) => log.push(text));
  await nic.ready;

  const until = async (done, ms) => {
    const end = performance.now() + ms;
    while (!done() && performance.now() < end) {
      await new Promise((resolve) => {
        arrival = resolve;
        setTimeout(resolve, 50);
      });
    }
    return done();
  };

  // The NE2000's transmit buffer: each frame is copied in at its start and handed over as a subarray of it.
  const transmit = new Uint8Array(2048);
  const handOver = (frame) => {
    transmit.set(frame);
    send(transmit.subarray(0, frame.length));
  };

  const mac = EthernetFrames.randomLocalMac();
  handOver(EthernetFrames.arpRequest(mac, IP, GATEWAY));
  const gatewayArp = () => received.find((f) => f.arp && f.arp.op === 2 && f.arp.senderIp === GATEWAY);
  if (!(await until(gatewayArp, 5000))) throw new Error("no ARP reply from the gateway: " + JSON.stringify(log));
  const gatewayMac = gatewayArp().arp.senderMac;

  // One burst within a single turn of the event loop, as a guest sending a window of segments does. Sizes differ,
  // so a frame sent with another's bytes has lengths that do not add up.
  for (let seq = 0; seq < COUNT; seq++) {
    const payload = new Uint8Array(16 + (seq % 8) * 128).fill(seq);
    handOver(EthernetFrames.icmpEchoRequest(mac, gatewayMac, IP, GATEWAY, ID, seq, payload));
  }
  const answered = () => {
    const seqs = new Set();
    for (const f of received) {
      if (f.icmp && f.icmp.type === 0 && f.icmp.id === ID && f.icmp.checksumValid
          && f.icmp.data.length === 16 + (f.icmp.seq % 8) * 128 && f.icmp.data.every((b) => b === f.icmp.seq)) {
        seqs.add(f.icmp.seq);
      }
    }
    return seqs;
  };
  await until(() => answered().size === COUNT, 5000);
  return JSON.stringify({ count: COUNT, answered: answered().size, sent: nic.sent, dropped: nic.dropped });
})();
