package dev.riscvrelay.relay.forward;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;

/**
 * Bytes already taken from a socket (a preview's request, re-written for the VM) handed on as if read again, at the
 * first read the next handler asks for: the NAT's connection reads its host socket only once the VM accepted, and
 * then gets these first. Removes itself after.
 */
final class ReplayOnFirstRead extends ChannelDuplexHandler {

    private ByteBuf pending;

    ReplayOnFirstRead(ByteBuf pending) {
        this.pending = pending;
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (pending == null) {
            ctx.read();
            return;
        }
        ByteBuf replay = pending;
        pending = null;
        // After the current event (the VM's SYN-ACK): the connection is established when the bytes arrive.
        ctx.executor().execute(() -> {
            ctx.fireChannelRead(replay);
            ctx.fireChannelReadComplete();
            ctx.pipeline().remove(this);
            ctx.read();
        });
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }
}
