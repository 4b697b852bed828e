package dev.riscvrelay.relay.nat.icmp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;

/** One VM's echo conversation (VM address, VM echo identifier, destination) and its connected ping socket. */
final class IcmpFlow extends ChannelInboundHandlerAdapter {

    final long keyHigh;
    final long keyLow;
    final long vmMac;
    final int vmAddress;
    final int vmIdentifier;
    final int destinationAddress;
    long lastActivityNanos;
    DatagramChannel channel;
    boolean closed;

    private final IcmpNat nat;

    IcmpFlow(IcmpNat nat, long keyHigh, long keyLow, long vmMac, int vmAddress, int vmIdentifier,
            int destinationAddress, long now) {
        this.nat = nat;
        this.keyHigh = keyHigh;
        this.keyLow = keyLow;
        this.vmMac = vmMac;
        this.vmAddress = vmAddress;
        this.vmIdentifier = vmIdentifier;
        this.destinationAddress = destinationAddress;
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
}
