package dev.riscvrelay.relay.nat.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;

/**
 * One VM conversation (VM address and port to one destination address and port) and the connected host socket
 * that carries it. Its handler runs on the NAT's event loop and hands everything to {@link UdpNat}.
 */
final class UdpFlow extends ChannelInboundHandlerAdapter {

    final long keyHigh;
    final long keyLow;
    final long vmMac;
    final int vmAddress;
    final int vmPort;
    final int destinationAddress;
    final int destinationPort;
    final long idleTimeoutNanos;
    /** The IP header plus 8 bytes of the VM's latest datagram, quoted in an ICMP port unreachable (RFC 792). */
    final ByteBuf lastQuote = Unpooled.wrappedBuffer(new byte[dev.riscvrelay.relay.nat.VmFrames.MAX_QUOTE]);
    int lastQuoteLength;
    long lastActivityNanos;
    DatagramChannel channel;
    boolean closed;

    private final UdpNat nat;

    UdpFlow(UdpNat nat, long keyHigh, long keyLow, long vmMac, int vmAddress, int vmPort, int destinationAddress,
            int destinationPort, long idleTimeoutNanos, long now) {
        this.nat = nat;
        this.keyHigh = keyHigh;
        this.keyLow = keyLow;
        this.vmMac = vmMac;
        this.vmAddress = vmAddress;
        this.vmPort = vmPort;
        this.destinationAddress = destinationAddress;
        this.destinationPort = destinationPort;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.lastActivityNanos = now;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        DatagramPacket packet = (DatagramPacket) msg;
        try {
            nat.onReply(this, packet.content());
        } finally {
            packet.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        nat.onSocketError(this, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        nat.onChannelClosed(this);
    }

    @Override
    public String toString() {
        return "udp " + dev.riscvrelay.relay.wire.Ipv4Address.format(vmAddress) + ":" + vmPort + " -> "
                + dev.riscvrelay.relay.wire.Ipv4Address.format(destinationAddress) + ":" + destinationPort;
    }
}
