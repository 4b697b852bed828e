"use strict";
// Orchestrates the browser test: opens N relay sessions (each an embedded relay-client.html running the seed's
// snippet), runs the scenarios named in ?scenarios= (arp, ping, lan, sizes) and POSTs one JSON report to /report.
// Facts are recorded as observed; the Java test decides what must hold.

const GATEWAY_IP = "10.0.2.2";
const GATEWAY_MAC = "52:54:00:12:34:56";
const SESSION_NAMES = ["A", "B", "C"];
const READY_TIMEOUT_MS = 20000;
const REPLY_TIMEOUT_MS = 1500;
const SIZE_PROBE_TIMEOUT_MS = 1000; // loopback round trips take about a millisecond
const PAGE_WATCHDOG_MS = 50000; // below the Java test's 60 s, so a stuck page still reports what it got
const RTT_SAMPLES = 30;

const params = new URLSearchParams(location.search);
const scenarioNames = (params.get("scenarios") ?? "arp,ping,lan,sizes").split(",").filter((s) => s);
const sessionCount = Math.min(SESSION_NAMES.length, Number(params.get("sessions") ?? 3));
const wrongHashSessions = (params.get("wrongHash") ?? "").split(",");
const { parse, ETHERTYPE_EXPERIMENT, BROADCAST } = EthernetFrames;
const text = new TextEncoder();
const untext = new TextDecoder();

const report = {
  userAgent: navigator.userAgent,
  secureContext: window.isSecureContext,
  crossOriginIsolated: window.crossOriginIsolated,
  webTransport: typeof WebTransport,
  scenarios: scenarioNames,
  sessions: [],
  errors: [],
};
let reported = false;

function log(line) {
  fetch("/log", { method: "POST", body: line }).catch(() => {});
}
function describe(e) {
  return e === null || e === undefined ? String(e) : (e.name ? e.name + ": " : "") + (e.message ?? String(e));
}
function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(what + " timed out after " + ms + " ms")), ms)),
  ]);
}
async function finish() {
  if (reported) return;
  reported = true;
  await fetch("/report", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(report) });
}
function nonce() {
  return Math.random().toString(36).slice(2, 10);
}
function markerOf(frame) {
  return untext.decode(frame.subarray(14, Math.min(frame.length, 14 + 64))).replace(/\0+$/, "");
}
function experimentFrame(dstMac, srcMac, marker, totalLength) {
  return EthernetFrames.rawFrame(dstMac, srcMac, ETHERTYPE_EXPERIMENT, text.encode(marker), totalLength);
}
function isExperiment(p, frame, marker) {
  return p.ethertype === ETHERTYPE_EXPERIMENT && markerOf(frame) === marker;
}
function median(sorted) {
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
}

function openSession(name, ip) {
  return new Promise((resolve, reject) => {
    const iframe = document.createElement("iframe");
    // relayPath.<name>: what this session appends to the snippet's URL (a network path, a ?token=).
    const relayPath = params.get("relayPath." + name);
    iframe.src = "relay-client.html?session=" + name + "&ip=" + ip + (wrongHashSessions.includes(name) ? "&cert=wrong" : "")
      + (relayPath ? "&relayPath=" + encodeURIComponent(relayPath) : "");
    iframe.onload = () => {
      const client = iframe.contentWindow.relayClient;
      client ? resolve(client) : reject(new Error("session " + name + ": relay-client.html has no relayClient"));
    };
    document.body.appendChild(iframe);
  });
}

/** Sends an ICMP echo request to the gateway and waits for the matching reply; returns what was observed. */
async function pingGateway(client, id, seq, payload, timeoutMs) {
  const request = EthernetFrames.icmpEchoRequest(client.mac, GATEWAY_MAC, client.ip, GATEWAY_IP, id, seq, payload);
  const replyPromise = client.waitForFrame(
    (p) => p.icmp && p.icmp.type === 0 && p.icmp.id === id && p.icmp.seq === seq && p.ipv4.src === GATEWAY_IP,
    timeoutMs);
  const start = performance.now();
  const writeError = await client.send(request);
  const reply = await replyPromise;
  const rttMs = performance.now() - start;
  if (!reply) return { replied: false, requestLength: request.length, writeError };
  const p = parse(reply);
  const data = p.icmp.data;
  return {
    replied: true,
    rttMs,
    writeError,
    requestLength: request.length,
    replyLength: reply.length,
    ethDst: p.dst,
    ethSrc: p.src,
    ipSrc: p.ipv4.src,
    ipDst: p.ipv4.dst,
    ipHeaderChecksumValid: p.ipv4.headerChecksumValid,
    icmpType: p.icmp.type,
    icmpCode: p.icmp.code,
    icmpChecksumValid: p.icmp.checksumValid,
    payloadExact: data.length === payload.length && data.every((b, i) => b === payload[i]),
    payloadLength: data.length,
  };
}

function pingPayload(label, length) {
  const payload = new Uint8Array(length);
  for (let i = 0; i < length; i++) payload[i] = (i * 7 + 13) & 0xff;
  const head = text.encode(label);
  payload.set(head.subarray(0, length));
  return payload;
}

const SCENARIOS = {
  /** (a) A resolves the gateway's MAC with an ARP request. */
  async arp([a]) {
    const attempts = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const replyPromise = a.waitForFrame((p) => p.arp && p.arp.op === 2 && p.arp.senderIp === GATEWAY_IP, REPLY_TIMEOUT_MS);
      const writeError = await a.send(EthernetFrames.arpRequest(a.mac, a.ip, GATEWAY_IP));
      const reply = await replyPromise;
      attempts.push(writeError);
      if (reply) {
        const p = parse(reply);
        return { replied: true, attempts: attempts.length, ethDst: p.dst, ethSrc: p.src, length: reply.length, ...p.arp };
      }
    }
    return { replied: false, attempts: attempts.length, writeErrors: attempts };
  },

  /** (b) A pings the gateway with a distinctive payload, then measures sequential echo round trips. */
  async ping([a]) {
    const payload = pingPayload("riscv-relay browser ping from " + a.mac, 64);
    let first = null;
    for (let attempt = 1; attempt <= 3 && !(first && first.replied); attempt++) {
      first = await pingGateway(a, 0x5252, attempt, payload, REPLY_TIMEOUT_MS);
      first.attempts = attempt;
    }
    const rtts = [];
    let lost = 0;
    for (let seq = 100; seq < 100 + RTT_SAMPLES; seq++) {
      const r = await pingGateway(a, 0x5253, seq, pingPayload("rtt", 56), REPLY_TIMEOUT_MS);
      r.replied && r.payloadExact ? rtts.push(r.rttMs) : lost++;
    }
    rtts.sort((x, y) => x - y);
    return {
      ...first,
      rtt: {
        samples: rtts.length, lost,
        minMs: rtts[0] ?? null, medianMs: median(rtts),
        p90Ms: rtts.length ? rtts[Math.floor(rtts.length * 0.9)] : null, maxMs: rtts[rtts.length - 1] ?? null,
        timerNote: window.crossOriginIsolated ? "cross-origin isolated timer" : "coarse timer (not cross-origin isolated)",
      },
    };
  },

  /** (c) Broadcasts reach every other session and never the sender; a learned unicast reaches only its target. */
  async lan(clients) {
    if (clients.length < 3) throw new Error("lan needs 3 sessions, have " + clients.length);
    const [a, b, c] = clients;
    const run = nonce();
    const broadcastMarker = (x) => "bcast:" + x.name + ":" + run;
    const seen = {};
    const waits = [];
    for (const receiver of clients) {
      seen[receiver.name] = {};
      for (const sender of clients) {
        if (sender === receiver) continue;
        waits.push(receiver.waitForFrame((p, f) => p.dst === BROADCAST && isExperiment(p, f, broadcastMarker(sender)), 3000)
          .then((frame) => { seen[receiver.name][sender.name] = frame !== null && parse(frame).src === sender.mac; }));
      }
    }
    const broadcastWriteErrors = {};
    for (const sender of clients) {
      broadcastWriteErrors[sender.name] = await sender.send(experimentFrame(BROADCAST, sender.mac, broadcastMarker(sender), 60));
    }
    await Promise.all(waits);
    const countOwn = (x, marker) => x.received.filter((f) => parse(f).src === x.mac && markerOf(f) === marker).length;
    const ownBroadcastsEchoed = Object.fromEntries(clients.map((x) => [x.name, countOwn(x, broadcastMarker(x))]));

    // Every session has sent a frame, so the switch has learned every MAC: A -> B must reach B only.
    const unicastMarker = "ucast:A->B:" + run;
    const fenceMarker = "fence:" + run;
    const atB = b.waitForFrame((p, f) => isExperiment(p, f, unicastMarker), 3000);
    const fenceAtC = c.waitForFrame((p, f) => isExperiment(p, f, fenceMarker), 3000);
    const unicastWriteError = await a.send(experimentFrame(b.mac, a.mac, unicastMarker, 60));
    const unicastFrame = await atB;
    // The switch handles A's frames in order: once C has A's later broadcast, a flooded copy of the unicast
    // would already have reached C. This is the fence that replaces "wait a while and hope".
    await a.send(experimentFrame(BROADCAST, a.mac, fenceMarker, 60));
    const fenceFrame = await fenceAtC;
    const unicastSeenBy = (x) => x.received.filter((f) => markerOf(f) === unicastMarker).length;
    return {
      macs: Object.fromEntries(clients.map((x) => [x.name, x.mac])),
      broadcastWriteErrors,
      broadcastSeen: seen,
      ownBroadcastsEchoed,
      unicast: {
        writeError: unicastWriteError,
        deliveredToB: unicastFrame !== null,
        deliveredDst: unicastFrame ? parse(unicastFrame).dst : null,
        fenceReachedC: fenceFrame !== null,
        copiesAtC: unicastSeenBy(c),
        copiesAtA: unicastSeenBy(a),
      },
    };
  },

  /** (d) maxDatagramSize and which frame sizes cross browser -> relay -> browser (gateway echo and A -> B). */
  async sizes(clients) {
    const [a, b] = clients;
    const maxDatagramSize = a.transport.datagrams.maxDatagramSize;
    const candidates = [maxDatagramSize, 1024, 1199, 1200, 1212, 1213, 1472, 1500, 1514];
    const sizes = [...new Set(candidates)].filter((s) => s >= 64 && s <= 1514).sort((x, y) => x - y);
    const results = [];
    let seq = 1;
    for (const size of sizes) {
      // The echo and the A -> B frame are probed together: a size that gets nowhere costs one timeout, not two.
      const echo = pingGateway(a, 0x5a5a, seq++, pingPayload("size " + size, size - 42), SIZE_PROBE_TIMEOUT_MS);
      let lan = Promise.resolve(null);
      if (b) {
        const marker = "size:" + size + ":" + nonce();
        const atB = b.waitForFrame((p, f) => isExperiment(p, f, marker), SIZE_PROBE_TIMEOUT_MS);
        lan = a.send(experimentFrame(b.mac, a.mac, marker, size))
          .then(async (writeError) => ({ writeError, frame: await atB }));
      }
      const [ping, toB] = await Promise.all([echo, lan]);
      const row = {
        size,
        gatewayEcho: ping.replied && ping.payloadExact && ping.replyLength === size,
        gatewayEchoWriteError: ping.writeError,
      };
      if (toB) {
        row.lanAtoB = toB.frame !== null && toB.frame.length === size;
        row.lanWriteError = toB.writeError;
      }
      results.push(row);
      log("size " + size + ": " + JSON.stringify(row));
    }
    const after = await pingGateway(a, 0x5a5b, 1, pingPayload("after oversize", 56), REPLY_TIMEOUT_MS);
    return {
      maxDatagramSize,
      results,
      largestGatewayEcho: Math.max(0, ...results.filter((r) => r.gatewayEcho).map((r) => r.size)),
      largestLanAtoB: Math.max(0, ...results.filter((r) => r.lanAtoB).map((r) => r.size)),
      sessionAliveAfterOversize: after.replied && after.payloadExact,
    };
  },
};

/**
 * (e) relay -> browser: for each size, the test sends A one frame of that size from a Java client on the LAN (unicast
 * to A's MAC), then a small fence frame; what arrived before the fence is what crosses relay -> browser. One size at
 * a time, so a frame the path refuses cannot hide what happens to the next.
 */
SCENARIOS.inbound = async function inbound([a]) {
  const sizes = [1199, 1200, 1212, 1213, 1447, 1455, 1514];
  const arrived = {};
  const fenceArrived = {};
  const answers = {};
  for (const size of sizes) {
    // Datagrams are unreliable: a probe counts once its fence arrived (three tries), so a lost fence is not
    // mistaken for a size that does not fit.
    for (let attempt = 1; attempt <= 3 && !fenceArrived[size]; attempt++) {
      const run = nonce();
      const fence = a.waitForFrame((p, f) => isExperiment(p, f, "inbound-fence:" + run), 2000);
      const response = await fetch("/inbound", { method: "POST", body: JSON.stringify({ mac: a.mac, run, size }) });
      answers[size] = await response.text();
      fenceArrived[size] = (await fence) !== null;
      const marker = "inbound:" + size + ":" + run;
      arrived[size] = a.received.some((f) => markerOf(f) === marker && f.length === size);
    }
  }
  return { answers, fenceArrived, arrived };
};

/**
 * (f) relay -> browser bursts from a LAN member outside the browser (the test's WebSocket client, which can send
 * frames up to 1514 bytes). First a sweep: two passes of one frame of every size from 60 to 1514, paced; the largest
 * size that arrived is the largest this browser takes from the relay on this path. Then, per phase in ?burstPhases=
 * ("paced", "unpaced"), bursts of ?burstCount= frames of each of a dozen sizes up to that largest. Frames are counted
 * per phase and size by their marker as they arrive (not kept), and a fence frame after each phase says it is over.
 */
SCENARIOS.burst = async function burst([a]) {
  const phases = (params.get("burstPhases") ?? "paced,unpaced").split(",").filter((s) => s);
  const count = Number(params.get("burstCount") ?? 100);
  const run = nonce();
  const prefix = "burst:" + run + ":";
  const counts = {};
  let wrongLength = 0;
  const remove = a.addListener((frame, p) => {
    if (p.ethertype !== ETHERTYPE_EXPERIMENT) return;
    const marker = markerOf(frame);
    if (!marker.startsWith(prefix)) return;
    const [phase, size] = marker.slice(prefix.length).split(":");
    if (frame.length !== Number(size)) { wrongLength++; return; }
    const perSize = (counts[phase] ??= {});
    perSize[size] = (perSize[size] ?? 0) + 1;
  });
  async function phase(name, extra) {
    const fence = a.waitForFrame((p, f) => isExperiment(p, f, "burst-fence:" + run + ":" + name), 15000);
    const started = performance.now();
    const response = await fetch("/burst", { method: "POST", body: JSON.stringify({ mac: a.mac, run, phase: name, ...extra }) });
    const answer = JSON.parse(await response.text());
    const fenced = (await fence) !== null;
    // Datagrams of one connection arrive in order unless the path reorders: a short grace covers stragglers.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { answer, fenced, ms: Math.round(performance.now() - started) };
  }
  try {
    // A broadcast first, so the switch learns A's MAC and the bursts are unicast to A, not flooded to every port.
    await a.send(experimentFrame(BROADCAST, a.mac, "hello:" + run, 60));
    const sweep = await phase("sweep", {});
    const swept = counts.sweep ?? {};
    const arrivedSizes = Object.keys(swept).map(Number).sort((x, y) => x - y);
    const largest = Math.max(0, ...arrivedSizes);
    const result = {
      sweep: {
        fenced: sweep.fenced, ms: sweep.ms, sent: sweep.answer,
        largest, arrivedSizes: arrivedSizes.length,
        missingUpToLargest: sweep.answer.sizes.filter((s) => s <= largest && !swept[s]),
        onceOnly: arrivedSizes.filter((s) => swept[s] === 1),
      },
      phases: {},
    };
    for (const name of phases) {
      const r = await phase(name, { max: largest, count });
      result.phases[name] = {
        fenced: r.fenced, ms: r.ms, sendMs: r.answer.sendMs, copies: r.answer.copies,
        arrived: Object.fromEntries(r.answer.sizes.map((s) => [s, (counts[name] ?? {})[s] ?? 0])),
      };
    }
    result.wrongLength = wrongLength;
    return result;
  } finally {
    remove();
  }
};

async function main() {
  const clients = [];
  for (let i = 0; i < sessionCount; i++) clients.push(await openSession(SESSION_NAMES[i], "10.0.2." + (15 + i)));
  const readiness = await Promise.all(clients.map((c) =>
    withTimeout(c.ready, READY_TIMEOUT_MS, "session " + c.name).then(() => null, (e) => describe(e))));
  report.sessions = clients.map((c, i) => ({
    name: c.name, mac: c.mac, ip: c.ip, wrongHash: wrongHashSessions.includes(c.name),
    ready: readiness[i] === null,
    error: c.failure ?? readiness[i],
    connectedAfterMs: c.connectedAt,
    maxDatagramSize: c.transport ? c.transport.datagrams.maxDatagramSize : null,
  }));
  log("sessions: " + JSON.stringify(report.sessions));
  if (readiness.every((r) => r === null) && scenarioNames.length) {
    for (const name of scenarioNames) {
      const scenario = SCENARIOS[name];
      try {
        if (!scenario) throw new Error("unknown scenario");
        report[name] = await scenario(clients);
        log(name + ": " + JSON.stringify(report[name]));
      } catch (e) {
        report.errors.push(name + ": " + describe(e));
      }
    }
  }
  report.framesReceived = Object.fromEntries(clients.map((c) => [c.name, c.received.length]));
  report.ownFramesEchoed = Object.fromEntries(clients.map((c) => [c.name, c.received.filter((f) => parse(f).src === c.mac).length]));
  report.failuresAfterReady = Object.fromEntries(clients.map((c) => [c.name, c.failure]));
}

setTimeout(() => { report.errors.push("page watchdog: scenarios still running after " + PAGE_WATCHDOG_MS + " ms"); finish(); },
  PAGE_WATCHDOG_MS);
main().catch((e) => report.errors.push("main: " + describe(e))).finally(finish);
