// Boots a Linux VM in v86 and puts its NIC on the relay's LAN, over WebTransport (this file's adapter) or
// WebSocket (v86's own network_relay_url adapter: one binary message per Ethernet frame); or, with "wisp", on v86's
// own network in the page, whose TCP connections leave through the relay's WISP endpoint.
"use strict";

const RELAY_VM_CMDLINE = "console=ttyS0 tsc=reliable mitigations=off random.trust_cpu=on quiet";
// Chromium accepts WebTransport datagrams of at most 1199 bytes, Firefox of 1212: a 1185-byte MTU keeps every
// Ethernet frame (14-byte header) within both, so the whole LAN uses it.
const RELAY_VM_MTU = 1185;

function hexToBytes(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  return bytes;
}

/** A terminal for the serial console: output into a <pre>, keys typed into it go to the VM. */
class SerialTerminal {
  constructor(element, send) {
    this.element = element;
    this.text = "";
    this.all = "";
    this.pendingEscape = "";
    element.tabIndex = 0;
    element.addEventListener("keydown", (event) => {
      let data = null;
      if (event.ctrlKey && event.key.length === 1) data = String.fromCharCode(event.key.toUpperCase().charCodeAt(0) - 64);
      else if (event.key === "Enter") data = "\n";
      else if (event.key === "Backspace") data = "\x7f";
      else if (event.key === "Tab") data = "\t";
      else if (event.key === "ArrowUp") data = "\x1b[A";
      else if (event.key === "ArrowDown") data = "\x1b[B";
      else if (event.key.length === 1) data = event.key;
      if (data !== null) {
        send(data);
        event.preventDefault();
      }
    });
    element.addEventListener("paste", (event) => {
      send(event.clipboardData.getData("text").replace(/\r\n/g, "\n"));
      event.preventDefault();
    });
    this.scheduled = false;
  }

  write(char) {
    this.all += char;
    if (this.all.length > 1 << 20) this.all = this.all.slice(-(1 << 19));
    // Drop ANSI escape sequences and carriage returns; honour backspace.
    if (this.pendingEscape || char === "\x1b") {
      this.pendingEscape += char;
      if (this.pendingEscape.length > 1 && /[A-Za-z~]/.test(char) || this.pendingEscape.length > 16) this.pendingEscape = "";
      return;
    }
    if (char === "\r") return;
    if (char === "\b") this.text = this.text.slice(0, -1);
    else this.text += char;
    if (this.text.length > 200000) this.text = this.text.slice(-100000);
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => {
        this.scheduled = false;
        this.element.textContent = this.text;
        this.element.scrollTop = this.element.scrollHeight;
      });
    }
  }
}

// Relays are tried in turn: the next one when a session ends or an attempt fails. In a cluster the relays share
// their LANs and DHCP leases, so the VM (same MAC) keeps its address through any of them.
const RELAY_CONNECT_TIMEOUT_MS = 10000; // a relay that is down may never answer the QUIC handshake
const RELAY_RETRY_FIRST_MS = 500; // after a failed attempt; doubled each time, up to the most
const RELAY_RETRY_MOST_MS = 5000;
const RELAY_MAX_FAILURES = 30; // failed attempts in a row (about two minutes): then the page stops and says so
const RELAY_SHORT_SESSION_MS = 5000; // a session that ends sooner counts as a failed attempt (no tight loop)

/**
 * The relays to try, in order: those given in the page's URL (?relay=URL, repeatable) when there are any, else the
 * page's own relay followed by the relay's --page-relays (from /relay.json). Invalid and repeated ones are left out.
 */
function relayUrls(requested, info, ownUrl) {
  const candidates = requested && requested.length ? requested : [ownUrl, ...(info.relays || [])];
  const urls = [];
  for (const candidate of candidates) {
    let url;
    try {
      url = new URL(candidate);
    } catch (e) {
      console.log(`[relay-vm] ignoring relay ${candidate}: ${e}`);
      continue;
    }
    if (url.protocol !== "https:") {
      console.log(`[relay-vm] ignoring relay ${candidate}: WebTransport needs https://`);
      continue;
    }
    if (!urls.includes(url.href)) urls.push(url.href);
  }
  return urls;
}

/**
 * The WebTransport NIC adapter: v86's net0-send/net0-receive bus events, one datagram per frame, over a session to
 * one relay of a list at a time. State: "connecting", "connected", "waiting" (backoff) or "stopped".
 */
class WebTransportNic {
  constructor(emulator, relays, certificateHash, log, onState) {
    this.emulator = emulator;
    this.relays = relays;
    this.options = certificateHash
        ? { serverCertificateHashes: [{ algorithm: "sha-256", value: hexToBytes(certificateHash) }] } : {};
    this.log = log;
    this.onState = onState || (() => {});
    this.dropped = 0;
    this.sent = 0;
    this.received = 0;
    this.sessions = 0; // sessions opened so far, to any relay
    this.failures = 0; // failed attempts in a row
    this.index = 0;
    this.url = relays[0];
    this.writer = null;
    this.state = "connecting";
    emulator.add_listener("net0-send", (frame) => {
      // Frames while no session is open are lost, as on an unplugged cable; the guest's protocols retry.
      if (this.writer === null || frame.length > this.maxDatagramSize) {
        this.dropped++; // the browser would drop an oversized one silently
        return;
      }
      this.sent++;
      // A copy: v86's NE2000 hands over a view of its transmit buffer, which the next frame overwrites, and the
      // writer keeps frames it cannot take at once (a busy guest sends many per turn of the event loop).
      this.writer.write(frame.slice()).catch(() => this.dropped++);
    });
    let opened;
    this.ready = new Promise((resolve, reject) => opened = { resolve, reject });
    this.run(opened).catch((e) => this.log(`NIC stopped: ${e}`));
  }

  setState(state, detail) {
    this.state = state;
    this.onState(state, this.url, detail);
  }

  async run(opened) {
    if (this.relays.length === 0) {
      this.setState("stopped", "no relay to connect to");
      opened.reject(new Error("no relay to connect to"));
      return;
    }
    for (;;) {
      this.url = this.relays[this.index];
      this.setState("connecting", this.failures ? `attempt ${this.failures + 1} of ${RELAY_MAX_FAILURES}` : "");
      this.log(`connecting to ${this.url}`);
      let transport = null;
      let reason;
      try {
        transport = await this.open(this.url);
      } catch (e) {
        reason = `${this.url} did not answer: ${e.message || e}`;
      }
      if (transport !== null) {
        const started = performance.now();
        this.sessions++;
        opened.resolve(this);
        reason = `session to ${this.url} ended: ${await this.carry(transport)}`;
        if (performance.now() - started >= RELAY_SHORT_SESSION_MS) this.failures = 0;
        else this.failures++;
      } else {
        this.failures++;
      }
      this.log(reason);
      if (this.failures >= RELAY_MAX_FAILURES) {
        const text = `gave up after ${this.failures} failed attempts in a row; reload the page to try again`;
        this.setState("stopped", text);
        this.log(text);
        opened.reject(new Error(text));
        return;
      }
      this.index = (this.index + 1) % this.relays.length;
      if (this.failures > 0) {
        const delay = Math.min(RELAY_RETRY_FIRST_MS * 2 ** (this.failures - 1), RELAY_RETRY_MOST_MS);
        this.setState("waiting", `${reason}; next: ${this.relays[this.index]} in ${(delay / 1000).toFixed(1)} s`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** A ready session to url, or an error within RELAY_CONNECT_TIMEOUT_MS. */
  async open(url) {
    const transport = new WebTransport(url, this.options);
    transport.closed.catch(() => {}); // looked at in carry(); an abandoned attempt must not warn
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no session within ${RELAY_CONNECT_TIMEOUT_MS / 1000} s`)),
          RELAY_CONNECT_TIMEOUT_MS);
    });
    try {
      await Promise.race([transport.ready, timeout]);
      return transport;
    } catch (e) {
      try {
        transport.close();
      } catch (ignored) {
        // already closed
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Carries frames both ways until the session ends; returns why it ended. */
  async carry(transport) {
    this.maxDatagramSize = transport.datagrams.maxDatagramSize;
    const reader = transport.datagrams.readable.getReader();
    this.writer = transport.datagrams.writable.getWriter();
    this.setState("connected", `session ${this.sessions}`);
    this.log(`WebTransport session open to ${this.url} (maxDatagramSize ${this.maxDatagramSize})`);
    const closed = transport.closed.then(
        (info) => info && info.reason ? `closed by the relay (${info.reason})` : "closed",
        (e) => `${e.message || e}`);
    const receiving = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return "no more datagrams";
        this.received++;
        this.emulator.bus.send("net0-receive", value);
      }
    })().catch((e) => `${e.message || e}`);
    const reason = await Promise.race([closed, receiving]);
    this.writer = null;
    try {
      transport.close();
    } catch (ignored) {
      // already closed
    }
    return reason;
  }
}

/**
 * Boots one VM. options: { console: <pre>, status: element, relayStatus: optional element for the NIC's relay and
 * state, transport: "webtransport"|"websocket"|"wisp", ip: optional "10.0.2.N/24" for a static address, base: URL of
 * the relay's web root, relays: optional list of https:// relay URLs to use instead of the page's own and its
 * --page-relays (WebTransport only) }.
 */
async function startRelayVm(options) {
  const status = (text) => {
    if (options.status) options.status.textContent = text;
    console.log("[relay-vm] " + text);
  };
  const started = performance.now();
  const base = options.base || "";
  const info = await (await fetch(base + "/relay.json")).json();
  const host = options.relayHost || location.hostname;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  let transport = options.transport;
  if (!transport) transport = typeof WebTransport === "function" ? "webtransport" : "websocket";
  let cmdline = RELAY_VM_CMDLINE + " relay.mtu=" + RELAY_VM_MTU;
  if (options.ip) cmdline += " relay.ip=" + options.ip;
  const settings = {
    wasm_path: base + "/v86/v86.wasm",
    bios: { url: base + "/v86/bios.bin" },
    vga_bios: { url: base + "/v86/vgabios.bin" },
    bzimage: { url: base + "/v86/bzImage" },
    initrd: { url: base + "/v86/initrd.cpio.gz" },
    cmdline,
    memory_size: 128 * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    net_device: { type: "ne2k" },
  };
  if (transport === "websocket") {
    if (info.webSocket === "off") throw new Error("the relay runs without WebSocket");
    settings.net_device.relay_url = `${info.webSocket}://${hostInUrl}:${info.port}/`;
  } else if (transport === "wisp") {
    // v86's own WISP network: its router and DHCP in the page, each TCP connection a WISP stream of the relay
    // (through its egress policy), not a member of the LAN.
    if (info.webSocket === "off") throw new Error("the relay runs without WebSocket");
    settings.net_device.relay_url = `${info.webSocket === "wss" ? "wisps" : "wisp"}://${hostInUrl}:${info.port}/wisp/`;
  }
  const vm = {
    transport,
    info,
    bootMs: null,
    events: [],
    log: (text) => {
      vm.events.push(text);
      status(text);
    },
  };
  const emulator = new V86(settings);
  vm.emulator = emulator;
  const terminal = new SerialTerminal(options.console, (data) => emulator.serial0_send(data));
  vm.terminal = terminal;
  vm.output = () => terminal.all;
  vm.send = (text) => emulator.serial0_send(text);
  emulator.add_listener("serial0-output-byte", (byte) => {
    terminal.write(String.fromCharCode(byte));
    if (vm.bootMs === null && terminal.all.endsWith("VM ready")) {
      vm.bootMs = Math.round(performance.now() - started);
      vm.log(`booted in ${(vm.bootMs / 1000).toFixed(1)} s (${transport})`);
    }
  });
  if (transport === "webtransport") {
    vm.relays = relayUrls(options.relays, info, `https://${hostInUrl}:${info.port}/`);
    const relayStatus = (state, url, detail) => {
      if (options.relayStatus) {
        options.relayStatus.textContent = `relay ${url}: ${state}${detail ? " (" + detail + ")" : ""}`
            + (vm.relays.length > 1 ? ` — ${vm.relays.length} relays in turn` : "");
      }
    };
    // Every relay of a cluster presents the cluster's one certificate, so the hash from /relay.json fits them all.
    vm.nic = new WebTransportNic(emulator, vm.relays, info.certificateHash, vm.log, relayStatus);
    vm.nic.ready.catch((e) => vm.log(`WebTransport failed: ${e}`));
  } else {
    vm.log(`NIC on ${settings.net_device.relay_url}`);
  }
  vm.log(`booting (${transport})`);
  return vm;
}
