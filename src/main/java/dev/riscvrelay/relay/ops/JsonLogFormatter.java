package dev.riscvrelay.relay.ops;

import dev.riscvrelay.relay.ops.api.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line ({@code --log-format json}) for log collectors:
 * {@code {"time":"…","level":"INFO","logger":"…","message":"…"}} and, with an exception, {@code "error"}.
 */
public final class JsonLogFormatter extends Formatter {

    @Override
    public String format(LogRecord record) {
        StringBuilder line = new StringBuilder(160);
        line.append("{\"time\":\"").append(Instant.ofEpochMilli(record.getMillis())).append('"');
        line.append(",\"level\":\"").append(record.getLevel().getName()).append('"');
        field(line, "logger", record.getLoggerName());
        field(line, "message", formatMessage(record));
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            field(line, "error", trace.toString());
        }
        return line.append("}\n").toString();
    }

    private static void field(StringBuilder line, String name, String value) {
        if (value == null) {
            return;
        }
        line.append(",\"").append(name).append("\":");
        Json.quote(line, value);
    }
}
