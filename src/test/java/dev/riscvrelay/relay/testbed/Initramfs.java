package dev.riscvrelay.relay.testbed;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A tiny initramfs for test VMs, written as an uncompressed "newc" cpio archive (the format the kernel unpacks,
 * Documentation/driver-api/early-userspace/buffer-format.rst): directories, files and device nodes, in order.
 */
public final class Initramfs {

    private static final int S_IFDIR = 0040000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFCHR = 0020000;

    private record Entry(String name, int mode, byte[] data, int rdevMajor, int rdevMinor) {
    }

    private final List<Entry> entries = new ArrayList<>();

    public Initramfs directory(String name) {
        entries.add(new Entry(name, S_IFDIR | 0755, new byte[0], 0, 0));
        return this;
    }

    public Initramfs file(String name, byte[] data, int permissions) {
        entries.add(new Entry(name, S_IFREG | permissions, data, 0, 0));
        return this;
    }

    public Initramfs file(String name, Path source, int permissions) throws IOException {
        return file(name, Files.readAllBytes(source), permissions);
    }

    public Initramfs script(String name, String text) {
        return file(name, text.getBytes(StandardCharsets.UTF_8), 0755);
    }

    public Initramfs charDevice(String name, int major, int minor) {
        entries.add(new Entry(name, S_IFCHR | 0600, new byte[0], major, minor));
        return this;
    }

    /** Writes the archive with its TRAILER!!! entry. */
    public Path writeTo(Path file) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int inode = 1;
        for (Entry entry : entries) {
            write(out, entry, inode++);
        }
        write(out, new Entry("TRAILER!!!", 0, new byte[0], 0, 0), 0);
        Files.write(file, out.toByteArray());
        return file;
    }

    private static void write(ByteArrayOutputStream out, Entry entry, int inode) {
        byte[] name = (entry.name() + "\0").getBytes(StandardCharsets.US_ASCII);
        String header = "070701" + hex(inode) + hex(entry.mode()) + hex(0) + hex(0)
                + hex((entry.mode() & S_IFDIR) == S_IFDIR ? 2 : 1) + hex(0) + hex(entry.data().length)
                + hex(0) + hex(0) + hex(entry.rdevMajor()) + hex(entry.rdevMinor()) + hex(name.length) + hex(0);
        out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(name);
        pad(out);
        out.writeBytes(entry.data());
        pad(out);
    }

    private static String hex(int value) {
        return String.format(Locale.ROOT, "%08X", value);
    }

    /** Header plus name, and the data, each end on a 4-byte boundary. */
    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }
}
