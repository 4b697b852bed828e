// The hash printed by the relay server on startup
const RELAY_CERT_HASH = "YOUR_CERTIFICATE_HASH_HERE";
// Convert hex string to Uint8Array
const certHashBytes = new Uint8Array(
RELAY_CERT_HASH.match(/.{1,2}/g).map((byte) => parseInt(byte, 16))
);
async function connectToRelay() {
const url = "https://127.0.0.1:4433";
const transport = new WebTransport(url, {
serverCertificateHashes: [
{
algorithm: "sha-256",
value: certHashBytes,
},
],
});
try {
await transport.ready;
console.log("Connected to relay!");
// 1. Reader for incoming packets (Ethernet frames)
const reader = transport.datagrams.readable.getReader();
// 2. Writer for outgoing packets
const writer = transport.datagrams.writable.getWriter();
// Example: Receive loop
while (true) {
const { value, done } = await reader.read();
if (done) break;
console.log("Received packet:", value); // value is a Uint8Array
}
} catch (e) {
console.error("Connection failed:", e);
}
}
connectToRelay();
