"use strict";
// Loaded before the seed's snippet (seed-snippet.js), which must run verbatim. The snippet keeps its transport,
// reader and writer in local variables, so this harness observes them from outside: it replaces the global
// WebTransport with a subclass that records each instance, hands out the writer the snippet takes, taps the
// reader the snippet reads from, and learns success or failure from the snippet's own console messages.
// It exposes window.relayClient for the test page that embeds this one (one page = one relay session).

(() => {
  const params = new URLSearchParams(location.search);
  const name = params.get("session") ?? "client";
  const ip = params.get("ip") ?? "10.0.2.15";
  const mac = EthernetFrames.randomLocalMac();
  const MAX_LOGGED_FRAMES = 4000; // bounded: the tests send a few hundred frames at most

  let resolveReady, rejectReady;
  const ready = new Promise((resolve, reject) => { resolveReady = resolve; rejectReady = reject; });
  const listeners = new Set();
  const client = {
    name, ip, mac, ready,
    transport: null,
    writer: null,
    received: [], // every frame this session received, in order, as Uint8Array copies
    failure: null, // "Name: message" of the error the snippet reported, if any
    connectedAt: null,
    addListener(fn) { listeners.add(fn); return () => listeners.delete(fn); },
    /** Resolves with the first received frame matching predicate, or null after timeoutMs. */
    waitForFrame(predicate, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => { remove(); resolve(null); }, timeoutMs);
        const remove = client.addListener((frame, parsed) => {
          if (predicate(parsed, frame)) { clearTimeout(timer); remove(); resolve(frame); }
        });
      });
    },
    /** Writes one frame as one datagram through the writer the snippet obtained; returns the write outcome. */
    async send(bytes) {
      try {
        await client.writer.write(new Uint8Array(bytes));
        return null;
      } catch (e) {
        return describe(e);
      }
    },
  };
  window.relayClient = client;

  function describe(e) {
    if (e === undefined || e === null) return String(e);
    const base = (e.name ? e.name + ": " : "") + (e.message ?? String(e));
    return base;
  }

  function deliver(value) {
    const frame = new Uint8Array(value);
    if (client.received.length < MAX_LOGGED_FRAMES) client.received.push(frame);
    const parsed = EthernetFrames.parse(frame);
    // Be a decent LAN member: answer ARP for our own address (a gateway may resolve us before replying).
    if (parsed.arp && parsed.arp.op === 1 && parsed.arp.targetIp === ip && client.writer) {
      client.writer.write(EthernetFrames.arpReply(mac, ip, parsed.arp.senderMac, parsed.arp.senderIp)).catch(() => {});
    }
    for (const fn of [...listeners]) fn(frame, parsed);
  }

  const NativeWebTransport = window.WebTransport;
  if (typeof NativeWebTransport !== "function") {
    client.failure = "WebTransport is " + typeof NativeWebTransport + " in this browser";
    rejectReady(new Error(client.failure));
    return;
  }
  window.WebTransport = class ObservedWebTransport extends NativeWebTransport {
    constructor(url, options) {
      // The snippet's URL stays verbatim; a test may add a network path and a token to it.
      super(url + (params.get("relayPath") ?? ""), options);
      client.transport = this;
      const datagrams = this.datagrams;
      const readable = datagrams.readable;
      const nativeGetReader = readable.getReader.bind(readable);
      readable.getReader = (...args) => {
        const reader = nativeGetReader(...args);
        const nativeRead = reader.read.bind(reader);
        reader.read = () => nativeRead().then((result) => {
          if (!result.done) deliver(result.value);
          return result;
        });
        return reader;
      };
      const writable = datagrams.writable;
      const nativeGetWriter = writable.getWriter.bind(writable);
      writable.getWriter = (...args) => {
        client.writer = nativeGetWriter(...args);
        // The snippet takes the writer right after "Connected to relay!" and the reader: the session is usable.
        resolveReady(client);
        return client.writer;
      };
    }
  };

  const nativeLog = console.log.bind(console);
  const nativeError = console.error.bind(console);
  console.log = (...args) => {
    if (args[0] === "Connected to relay!") client.connectedAt = performance.now();
    if (args[0] === "Received packet:") return; // one line per frame would drown the browser log
    nativeLog(...args);
  };
  console.error = (...args) => {
    if (args[0] === "Connection failed:") {
      client.failure = describe(args[1]);
      rejectReady(new Error(client.failure));
    }
    nativeError(...args);
  };

  const snippet = document.createElement("script");
  snippet.src = "seed-snippet.js" + (params.get("cert") === "wrong" ? "?cert=wrong" : "");
  snippet.onerror = () => { client.failure = "seed-snippet.js did not load"; rejectReady(new Error(client.failure)); };
  document.head.append(snippet);
})();
