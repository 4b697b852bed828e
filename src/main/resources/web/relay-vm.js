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

/** The WebTransport NIC adapter: v86's net0-send/net0-receive bus events, one datagram per frame. */
class WebTransportNic {
  constructor(emulator, url, certificateHash, log) {
    this.emulator = emulator;
    this.dropped = 0;
    this.sent = 0;
    this.received = 0;
    this.ready = this.connect(url, certificateHash, log);
  }

  async connect(url, certificateHash, log) {
    const options = certificateHash
        ? { serverCertificateHashes: [{ algorithm: "sha-256", value: hexToBytes(certificateHash) }] } : {};
    this.transport = new WebTransport(url, options);
    await this.transport.ready;
    this.maxDatagramSize = this.transport.datagrams.maxDatagramSize;
    const writer = this.transport.datagrams.writable.getWriter();
    this.emulator.add_listener("net0-send", (frame) => {
      if (frame.length > this.maxDatagramSize) {
        this.dropped++; // the browser would drop it silently
        return;
      }
      this.sent++;
      writer.write(frame).catch(() => this.dropped++);
    });
    const reader = this.transport.datagrams.readable.getReader();
    log(`WebTransport session open (maxDatagramSize ${this.maxDatagramSize})`);
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.received++;
        this.emulator.bus.send("net0-receive", value);
      }
    })().catch((e) => log(`WebTransport receive ended: ${e}`));
    this.transport.closed.then(() => log("WebTransport session closed"), (e) => log(`WebTransport closed: ${e}`));
  }
}

/**
 * Boots one VM. options: { console: <pre>, status: element, transport: "webtransport"|"websocket"|"wisp", ip: optional
 * "10.0.2.N/24" for a static address, base: URL of the relay's web root }.
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
    vm.nic = new WebTransportNic(emulator, `https://${hostInUrl}:${info.port}/`, info.certificateHash, vm.log);
    vm.nic.ready.catch((e) => vm.log(`WebTransport failed: ${e}`));
  } else {
    vm.log(`NIC on ${settings.net_device.relay_url}`);
  }
  vm.log(`booting (${transport})`);
  return vm;
}
