import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A minimal JSON reader and the SSO-02 canonical writer, so that the sample needs nothing but Bouncy Castle.
 * In a system that has Jackson or Gson, parse with it and write the canonical form as {@link #write} does:
 * object keys sorted by code point at every level, separators "," and ":" with no spaces, UTF-8 without
 * \\u escapes (only the quote, the backslash and control characters are escaped, as JSON requires).
 *
 * <p>Objects read as {@code Map<String, Object>} (sorted), arrays as {@code List<Object>}, strings as String,
 * numbers as {@link Num} (their text), true/false as Boolean and null as {@link #NULL}.
 */
public final class CanonicalJson {
    /** JSON null (a Map cannot hold Java null in every implementation, and it reads better). */
    public static final Object NULL = new Object();

    /** A JSON number, kept as written. The user record holds integers only (auth_level). */
    public record Num(String text) {}

    /** Sort by Unicode code point, as the platform does (String.compareTo compares UTF-16 units). */
    public static final Comparator<String> BY_CODE_POINT = (a, b) -> {
        int[] x = a.codePoints().toArray();
        int[] y = b.codePoints().toArray();
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            if (x[i] != y[i]) {
                return Integer.compare(x[i], y[i]);
            }
        }
        return Integer.compare(x.length, y.length);
    };

    private final String text;
    private int at;

    private CanonicalJson(String text) {
        this.text = text;
    }

    public static Object parse(String text) {
        CanonicalJson reader = new CanonicalJson(text);
        Object value = reader.value();
        reader.space();
        if (reader.at != text.length()) {
            throw reader.error("trailing characters");
        }
        return value;
    }

    /** The canonical text of a parsed value. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static void write(Object value, StringBuilder out) {
        if (value instanceof Map<?, ?> map) {
            TreeMap<String, Object> sorted = new TreeMap<>(BY_CODE_POINT);
            sorted.putAll((Map<String, Object>) map);
            out.append('{');
            String sep = "";
            for (Map.Entry<String, Object> entry : sorted.entrySet()) {
                out.append(sep);
                string(entry.getKey(), out);
                out.append(':');
                write(entry.getValue(), out);
                sep = ",";
            }
            out.append('}');
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                out.append(i == 0 ? "" : ",");
                write(list.get(i), out);
            }
            out.append(']');
        } else if (value instanceof String s) {
            string(s, out);
        } else if (value instanceof Num n) {
            // an integer as the platform writes it (no sign on zero, no leading zeros); others as received
            out.append(n.text().matches("-?[0-9]+") ? new BigInteger(n.text()).toString() : n.text());
        } else if (value instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else {
            out.append("null");
        }
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c); // Chinese and every other character as itself (UTF-8 when encoded)
                    }
                }
            }
        }
        out.append('"');
    }

    // ------------------------------------------------------------------------------------- reading

    private Object value() {
        space();
        if (at >= text.length()) {
            throw error("unexpected end");
        }
        char c = text.charAt(at);
        if (c == '{') {
            return object();
        }
        if (c == '[') {
            return array();
        }
        if (c == '"') {
            return string();
        }
        if (text.startsWith("true", at)) {
            at += 4;
            return Boolean.TRUE;
        }
        if (text.startsWith("false", at)) {
            at += 5;
            return Boolean.FALSE;
        }
        if (text.startsWith("null", at)) {
            at += 4;
            return NULL;
        }
        int start = at;
        while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
            at++;
        }
        if (start == at) {
            throw error("unexpected character");
        }
        return new Num(text.substring(start, at));
    }

    private Map<String, Object> object() {
        Map<String, Object> map = new TreeMap<>(BY_CODE_POINT);
        at++;
        space();
        if (peek('}')) {
            return map;
        }
        do {
            space();
            if (!peek('"')) {
                throw error("expected a key");
            }
            at--;
            String key = string();
            space();
            expect(':');
            map.put(key, value()); // a repeated key: the last one wins, as in the platform's reader
            space();
        } while (peek(','));
        expect('}');
        return map;
    }

    private List<Object> array() {
        List<Object> list = new ArrayList<>();
        at++;
        space();
        if (peek(']')) {
            return list;
        }
        do {
            list.add(value());
            space();
        } while (peek(','));
        expect(']');
        return list;
    }

    private String string() {
        StringBuilder out = new StringBuilder();
        at++;
        while (true) {
            if (at >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(at++);
            if (c == '"') {
                return out.toString();
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char e = text.charAt(at++);
            switch (e) {
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                    at += 4;
                }
                default -> out.append(e); // \" \\ \/
            }
        }
    }

    private void space() {
        while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0) {
            at++;
        }
    }

    private boolean peek(char c) {
        if (at < text.length() && text.charAt(at) == c) {
            at++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!peek(c)) {
            throw error("expected '" + c + "'");
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("bad JSON at offset " + at + ": " + what);
    }
}
