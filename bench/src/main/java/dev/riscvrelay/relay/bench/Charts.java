package dev.riscvrelay.relay.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** Small PNG charts drawn with java.awt in headless mode: grouped bars and lines, enough for BENCHMARKS.md. */
public final class Charts {

    private static final int WIDTH = 900;
    private static final int HEIGHT = 480;
    private static final int LEFT = 90;
    private static final int RIGHT = 20;
    private static final int TOP = 50;
    private static final int BOTTOM = 90;
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
    };

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /** One named series of values, one per category (bars) or per x (lines). NaN leaves a gap. */
    public record Series(String name, double[] values) {
    }

    /** Grouped bars: one group per category, one bar per series; an optional dashed target line. */
    public static void bars(Path file, String title, String yLabel, List<String> categories, List<Series> series,
            double target, String targetLabel) throws IOException {
        double max = Math.max(maxOf(series), Double.isNaN(target) ? 0 : target) * 1.1;
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(image, title, yLabel, max);
        int plotWidth = WIDTH - LEFT - RIGHT;
        int groupWidth = plotWidth / Math.max(1, categories.size());
        int barWidth = Math.max(2, (groupWidth - 20) / Math.max(1, series.size()));
        for (int c = 0; c < categories.size(); c++) {
            int groupX = LEFT + c * groupWidth + 10;
            for (int s = 0; s < series.size(); s++) {
                double value = series.get(s).values()[c];
                if (Double.isNaN(value)) {
                    continue;
                }
                int barHeight = (int) Math.round(value / max * plotHeight());
                g.setColor(PALETTE[s % PALETTE.length]);
                g.fillRect(groupX + s * barWidth, TOP + plotHeight() - barHeight, barWidth - 2, barHeight);
            }
            g.setColor(Color.BLACK);
            drawCentered(g, categories.get(c), groupX + (groupWidth - 20) / 2, TOP + plotHeight() + 18);
        }
        if (!Double.isNaN(target)) {
            int y = TOP + plotHeight() - (int) Math.round(target / max * plotHeight());
            g.setColor(Color.RED);
            g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4},
                    0));
            g.drawLine(LEFT, y, WIDTH - RIGHT, y);
            g.drawString(targetLabel, LEFT + 5, y - 4);
        }
        legend(g, series);
        write(image, file);
    }

    /** Lines over numeric x values (e.g. load fraction), one per series, with point markers. */
    public static void lines(Path file, String title, String xLabel, String yLabel, double[] xs, List<Series> series,
            double target, String targetLabel) throws IOException {
        double max = Math.max(maxOf(series), Double.isNaN(target) ? 0 : target) * 1.1;
        double minX = xs[0];
        double maxX = xs[xs.length - 1];
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(image, title, yLabel, max);
        int plotWidth = WIDTH - LEFT - RIGHT - 40;
        g.setColor(Color.BLACK);
        for (double x : xs) {
            int px = LEFT + 20 + (int) Math.round((x - minX) / Math.max(1e-9, maxX - minX) * plotWidth);
            drawCentered(g, trim(x), px, TOP + plotHeight() + 18);
        }
        drawCentered(g, xLabel, LEFT + plotWidth / 2, TOP + plotHeight() + 40);
        for (int s = 0; s < series.size(); s++) {
            g.setColor(PALETTE[s % PALETTE.length]);
            g.setStroke(new BasicStroke(2f));
            int lastX = -1;
            int lastY = -1;
            for (int i = 0; i < xs.length; i++) {
                double value = series.get(s).values()[i];
                if (Double.isNaN(value)) {
                    lastX = -1;
                    continue;
                }
                int px = LEFT + 20 + (int) Math.round((xs[i] - minX) / Math.max(1e-9, maxX - minX) * plotWidth);
                int py = TOP + plotHeight() - (int) Math.round(value / max * plotHeight());
                g.fillOval(px - 4, py - 4, 8, 8);
                if (lastX >= 0) {
                    g.drawLine(lastX, lastY, px, py);
                }
                lastX = px;
                lastY = py;
            }
        }
        if (!Double.isNaN(target)) {
            int y = TOP + plotHeight() - (int) Math.round(target / max * plotHeight());
            g.setColor(Color.RED);
            g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4},
                    0));
            g.drawLine(LEFT, y, WIDTH - RIGHT, y);
            g.drawString(targetLabel, LEFT + 5, y - 4);
        }
        legend(g, series);
        write(image, file);
    }

    private static int plotHeight() {
        return HEIGHT - TOP - BOTTOM;
    }

    private static Graphics2D canvas(BufferedImage image, String title, String yLabel, double max) {
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.setColor(Color.BLACK);
        drawCentered(g, title, WIDTH / 2, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(new Color(0xdddddd));
        for (int i = 0; i <= 5; i++) {
            int y = TOP + plotHeight() - i * plotHeight() / 5;
            g.drawLine(LEFT, y, WIDTH - RIGHT, y);
        }
        g.setColor(Color.BLACK);
        for (int i = 0; i <= 5; i++) {
            int y = TOP + plotHeight() - i * plotHeight() / 5;
            String label = human(max * i / 5);
            g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
        }
        g.drawLine(LEFT, TOP, LEFT, TOP + plotHeight());
        g.drawLine(LEFT, TOP + plotHeight(), WIDTH - RIGHT, TOP + plotHeight());
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.drawString(yLabel, -(TOP + plotHeight() / 2) - g.getFontMetrics().stringWidth(yLabel) / 2, 18);
        rotated.dispose();
        return g;
    }

    private static void legend(Graphics2D g, List<Series> series) {
        int x = LEFT;
        int y = HEIGHT - 22;
        for (int s = 0; s < series.size(); s++) {
            g.setColor(PALETTE[s % PALETTE.length]);
            g.fillRect(x, y - 10, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(series.get(s).name(), x + 16, y);
            x += 30 + g.getFontMetrics().stringWidth(series.get(s).name());
        }
    }

    private static void drawCentered(Graphics2D g, String text, int x, int y) {
        FontMetrics metrics = g.getFontMetrics();
        g.drawString(text, x - metrics.stringWidth(text) / 2, y);
    }

    private static double maxOf(List<Series> series) {
        double max = 0;
        for (Series s : series) {
            for (double v : s.values()) {
                if (!Double.isNaN(v)) {
                    max = Math.max(max, v);
                }
            }
        }
        return max == 0 ? 1 : max;
    }

    /** 1234567 → "1.23M"; axis labels stay short. */
    static String human(double value) {
        double abs = Math.abs(value);
        if (abs >= 1e9) {
            return trim(value / 1e9) + "G";
        }
        if (abs >= 1e6) {
            return trim(value / 1e6) + "M";
        }
        if (abs >= 1e3) {
            return trim(value / 1e3) + "k";
        }
        return trim(value);
    }

    private static String trim(double value) {
        String text = String.format(java.util.Locale.ROOT, "%.2f", value);
        return text.replaceAll("\\.?0+$", "");
    }

    private static void write(BufferedImage image, Path file) throws IOException {
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("no PNG writer in this JVM");
        }
    }
}
