// The relay's dashboard: one event a second from /api/events; plots drawn on canvases, tables rebuilt per event.
"use strict";

const HISTORY = 120; // seconds kept for the plots
const SHORTEST_SPAN = 30; // seconds the plots span at least, so a fresh page does not squeeze into a corner
const samples = []; // {time, framesIn, framesOut, bytesIn, bytesOut, drops, sessions}
const memberTotals = new Map(); // member key -> {time, from, to} of the last event, for per-member rates
const state = { events: 0, draws: 0, last: null };
window.dashboard = { samples, state }; // for tests and the curious

const $ = (id) => document.getElementById(id);

function count(n) {
  return Number(n).toLocaleString("en-US");
}

function si(n, unit) {
  const prefixes = ["", "k", "M", "G", "T"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < prefixes.length - 1) { n /= 1000; i++; }
  return (i === 0 ? Math.round(n) : n.toFixed(n < 10 ? 2 : 1)) + " " + prefixes[i] + unit;
}

function rate(key) {
  if (samples.length < 2) return 0;
  const a = samples[samples.length - 2], b = samples[samples.length - 1];
  const seconds = (b.time - a.time) / 1000;
  return seconds > 0 ? (b[key] - a[key]) / seconds : 0;
}

function series(key, perSecond, scale = 1) {
  const points = [];
  for (let i = perSecond ? 1 : 0; i < samples.length; i++) {
    const b = samples[i];
    let value = b[key];
    if (perSecond) {
      const a = samples[i - 1], seconds = (b.time - a.time) / 1000;
      value = seconds > 0 ? (b[key] - a[key]) / seconds : 0;
    }
    points.push({ time: b.time, value: value * scale });
  }
  return points;
}

/** Draws lines of {time, value} points over the last HISTORY seconds, with the largest value as the scale. */
function plot(canvas, lines, unit) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== width * ratio || canvas.height !== height * ratio) {
    canvas.width = width * ratio;
    canvas.height = height * ratio;
  }
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const now = samples.length ? samples[samples.length - 1].time : Date.now();
  let max = 0;
  lines.forEach((line) => line.points.forEach((p) => { max = Math.max(max, p.value); }));
  max = max > 0 ? max * 1.1 : 1;
  const left = 4, top = 14, bottom = height - 4, right = width - 4;
  g.strokeStyle = "#d8dee4";
  g.lineWidth = 1;
  g.beginPath();
  for (let i = 0; i <= 2; i++) {
    const y = bottom - (bottom - top) * i / 2;
    g.moveTo(left, y);
    g.lineTo(right, y);
  }
  g.stroke();
  g.fillStyle = "#5b6670";
  g.font = "11px system-ui, sans-serif";
  g.fillText(si(max / 1.1, unit), left + 2, top - 3);
  const first = samples.length ? samples[0].time : now;
  const span = Math.min(HISTORY, Math.max(SHORTEST_SPAN, (now - first) / 1000));
  g.fillText(Math.round(span) + " s", right - 28, top - 3);
  const x = (time) => right - (now - time) / 1000 / span * (right - left);
  const y = (value) => bottom - value / max * (bottom - top);
  lines.forEach((line) => {
    g.strokeStyle = line.color;
    g.lineWidth = 2;
    g.beginPath();
    line.points.forEach((p, i) => (i === 0 ? g.moveTo(x(p.time), y(p.value)) : g.lineTo(x(p.time), y(p.value))));
    g.stroke();
  });
  state.draws++;
}

function drawPlots() {
  plot($("plot-throughput"), [
    { color: "#1f77b4", points: series("bytesIn", true, 8) },
    { color: "#d62728", points: series("bytesOut", true, 8) },
  ], "bit/s");
  plot($("plot-sessions"), [{ color: "#2b8a3e", points: series("sessions", false) }], "");
  plot($("plot-drops"), [{ color: "#d62728", points: series("drops", true) }], "/s");
}

function showTotals(e) {
  $("sessions").textContent = count(e.sessions);
  $("frames-in").textContent = count(e.framesIn);
  $("frames-out").textContent = count(e.framesOut);
  $("bytes-in").textContent = count(e.bytesIn);
  $("bytes-out").textContent = count(e.bytesOut);
  $("drops").textContent = count(e.drops);
  $("frames-in-rate").textContent = si(rate("framesIn"), "frames/s");
  $("frames-out-rate").textContent = si(rate("framesOut"), "frames/s");
  $("bytes-in-rate").textContent = si(rate("bytesIn") * 8, "bit/s");
  $("bytes-out-rate").textContent = si(rate("bytesOut") * 8, "bit/s");
  $("drops-rate").textContent = si(rate("drops"), "/s");
  $("nat").textContent = e.natFlows.udp + " / " + e.natFlows.icmp + " / " + e.natFlows.tcp;
  $("leases").textContent = e.dhcpLeases + " · " + e.macTableEntries;
  const reasons = Object.entries(e.dropsByReason);
  $("drop-reasons").replaceChildren(...(reasons.length ? reasons : [["none", ""]]).map(([reason, n]) => {
    const li = document.createElement("li");
    li.textContent = n === "" ? reason : reason + ": " + count(n);
    return li;
  }));
}

function showCertificate(c) {
  $("cert-hash").textContent = c.sha256;
  $("cert-subject").textContent = c.subject + (c.selfSigned ? " (self-signed)" : "");
  const days = c.secondsLeft / 86400;
  $("cert-expiry").textContent = c.notAfter + " (" + (days >= 1 ? Math.floor(days) + " days" :
      Math.max(0, Math.floor(c.secondsLeft / 3600)) + " hours") + " left)";
}

function showCapture(file) {
  $("capture-state").textContent = file ? "capturing to " + file : "no capture running";
  const button = $("capture-toggle");
  button.disabled = false;
  button.textContent = file ? "stop capture" : "start capture";
  button.dataset.running = file ? "yes" : "no";
}

async function post(path) {
  const response = await fetch(path, { method: "POST" });
  const text = await response.text();
  if (!response.ok) alert(text);
  return response.ok;
}

async function toggleCapture() {
  const running = $("capture-toggle").dataset.running === "yes";
  const question = running ? "Stop the capture and close its file?" : "Capture every frame of the LAN to a pcap file?";
  if (!confirm(question)) return;
  await post(running ? "/pcap/stop" : "/pcap/start");
}

async function disconnect(network, mac) {
  if (!confirm("Disconnect " + mac + " from network " + network + "? It may reconnect.")) return;
  await post("/api/networks/" + encodeURIComponent(network) + "/members/" + mac + "/disconnect");
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function memberRow(network, m, time) {
  const row = document.createElement("tr");
  const key = network.name + " " + m.client + " " + m.connectedSince;
  const before = memberTotals.get(key);
  memberTotals.set(key, { time, from: m.fromMember.bytes, to: m.toMember.bytes });
  const seconds = before ? (time - before.time) / 1000 : 0;
  const fromRate = seconds > 0 ? (m.fromMember.bytes - before.from) * 8 / seconds : 0;
  const toRate = seconds > 0 ? (m.toMember.bytes - before.to) * 8 / seconds : 0;
  row.dataset.mac = m.macs[0] || "";
  const action = document.createElement("td");
  if (m.macs.length) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "danger";
    button.textContent = "disconnect";
    button.addEventListener("click", () => disconnect(network.name, m.macs[0]));
    action.appendChild(button);
  }
  row.appendChild(action);
  cell(row, m.macs.join(" ") || "–");
  cell(row, m.addresses.join(" ") || "–");
  cell(row, m.transport);
  cell(row, m.client || "–");
  cell(row, new Date(m.connectedSince).toLocaleString());
  cell(row, count(m.fromMember.frames) + " / " + si(m.fromMember.bytes, "B"), "num");
  cell(row, si(fromRate, "bit/s"), "num");
  cell(row, count(m.toMember.frames) + " / " + si(m.toMember.bytes, "B"), "num");
  cell(row, si(toRate, "bit/s"), "num");
  const drops = Object.entries(m.drops).filter(([, n]) => n > 0).map(([r, n]) => r + " " + n);
  cell(row, drops.join(", ") || "0");
  cell(row, m.natFlows.udp + " / " + m.natFlows.icmp + " / " + m.natFlows.tcp, "num");
  return row;
}

const HEADINGS = ["", "MAC", "address", "transport", "client", "connected since", "from member (frames / bytes)", "rate",
  "to member (frames / bytes)", "rate", "drops", "NAT udp/icmp/tcp"];

function showNetworks(networks, time) {
  if (!networks) return; // the event loop did not answer in time: keep the last tables
  $("networks").replaceChildren(...networks.map((network) => {
    const box = document.createElement("div");
    box.className = "network";
    box.dataset.network = network.name;
    const title = document.createElement("h2");
    title.textContent = "Network " + network.name + " · " + network.memberCount + " members · " +
        network.dhcpLeases + " leases · worker " + network.worker;
    box.appendChild(title);
    const wrap = document.createElement("div");
    wrap.className = "table-wrap";
    const table = document.createElement("table");
    const head = document.createElement("tr");
    HEADINGS.forEach((h) => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
    table.appendChild(head);
    network.members.forEach((m) => table.appendChild(memberRow(network, m, time)));
    wrap.appendChild(table);
    box.appendChild(wrap);
    if (network.memberCount > network.members.length) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = "showing " + network.members.length + " of " + network.memberCount +
          "; all of them: /api/networks/" + network.name + "/members?offset=0&limit=1000";
      box.appendChild(note);
    }
    return box;
  }));
}

function onEvent(message) {
  const e = JSON.parse(message.data);
  samples.push({ time: e.time, framesIn: e.framesIn, framesOut: e.framesOut, bytesIn: e.bytesIn,
    bytesOut: e.bytesOut, drops: e.drops, sessions: e.sessions });
  while (samples.length > HISTORY + 1) samples.shift();
  state.events++;
  state.last = e;
  showTotals(e);
  showCertificate(e.certificate);
  showCapture(e.capture);
  showNetworks(e.networks, e.time);
  drawPlots();
  $("status").textContent = "live · " + new Date(e.time).toLocaleTimeString();
  $("status").className = "status live";
}

/** The forwards change only when an operator opens or closes one: read them every few seconds, not per event. */
async function showForwards() {
  const list = $("forwards");
  let forwards = [];
  try {
    const response = await fetch("/forwards");
    if (response.ok) forwards = (await response.json()).forwards;
  } catch (e) {
    return; // the relay is restarting: keep what is shown
  }
  list.replaceChildren(...(forwards.length === 0 ? [Object.assign(document.createElement("li"), { textContent: "none" })]
    : forwards.map((f) => Object.assign(document.createElement("li"),
      { textContent: f.protocol + " " + f.listen + " → " + f.target }))));
  state.forwards = forwards.length;
}

function start() {
  $("capture-toggle").addEventListener("click", toggleCapture);
  showForwards();
  setInterval(showForwards, 5000);
  const events = new EventSource("/api/events");
  events.onmessage = onEvent;
  events.onerror = () => {
    $("status").textContent = "reconnecting…";
    $("status").className = "status";
  };
  window.addEventListener("resize", drawPlots);
}

start();
