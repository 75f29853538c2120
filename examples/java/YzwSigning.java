import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.gm.GMNamedCurves;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithID;
import org.bouncycastle.crypto.signers.PlainDSAEncoding;
import org.bouncycastle.crypto.signers.SM2Signer;

/**
 * YZW-NORM-2026 in Java with Bouncy Castle (Debian: libbcprov-java, /usr/share/java/bcprov.jar): SIG-01
 * request signing, SIG-02 verification of the platform's calls, SSO-02 verification of the IdP's SM2-signed
 * user record. Copy the methods you need; {@link #main} is the CLI the kit's tests run:
 *
 * <pre>
 *   javac -cp /usr/share/java/bcprov.jar -d out YzwSigning.java CanonicalJson.java
 *   java -cp /usr/share/java/bcprov.jar:out YzwSigning vector
 *   java ... YzwSigning call  PROVINCE_URL APP_ID SECRET 'PATH?QUERY'
 *   java ... YzwSigning sso   PROVINCE_URL APP_ID SECRET TICKET
 *   java ... YzwSigning verify-user PUBLIC_KEY_HEX ANSWER.json...
 *   java ... YzwSigning serve PORT PLATFORM_APP_ID PLATFORM_SECRET
 *   java ... YzwSigning canonical-query RAW_QUERY...
 * </pre>
 */
public final class YzwSigning {
    private YzwSigning() {}

    // ------------------------------------------------------------------------------------------ SIG-01

    public static final String APP_ID = "X-Yzw-App-Id";
    public static final String TIMESTAMP = "X-Yzw-Timestamp";
    public static final String NONCE = "X-Yzw-Nonce";
    public static final String SIGNATURE = "X-Yzw-Signature";
    private static final HexFormat HEX = HexFormat.of(); // lower case
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Lowercase hex SM3 of raw bytes. SM3 of an empty body is 1ab21d83…082aa2b. */
    public static String sm3Hex(byte[] data) {
        SM3Digest digest = new SM3Digest();
        digest.update(data, 0, data.length);
        byte[] out = new byte[digest.getDigestSize()];
        digest.doFinal(out, 0);
        return HEX.formatHex(out);
    }

    /** Lowercase hex HMAC-SM3 of the canonical string, keyed with the secret's UTF-8 bytes. */
    public static String hmacSm3Hex(String secret, String message) {
        HMac mac = new HMac(new SM3Digest());
        mac.init(new KeyParameter(secret.getBytes(StandardCharsets.UTF_8)));
        byte[] data = message.getBytes(StandardCharsets.UTF_8);
        mac.update(data, 0, data.length);
        byte[] out = new byte[mac.getMacSize()];
        mac.doFinal(out, 0);
        return HEX.formatHex(out);
    }

    /**
     * SIG-01 CANONICAL_QUERY of the raw query bytes (as sent, or as received — undecoded): split on '&', drop
     * empty pairs, form-decode name and value, sort by name then value (code points), RFC 3986 re-encode.
     */
    public static String canonicalQuery(byte[] raw) {
        List<String[]> pairs = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= raw.length; i++) {
            if (i == raw.length || raw[i] == '&') {
                if (i > start) { // `a=1&&b=2`: the empty pair is dropped
                    int eq = start;
                    while (eq < i && raw[eq] != '=') {
                        eq++;
                    }
                    String name = formDecode(raw, start, eq);
                    String value = eq < i ? formDecode(raw, eq + 1, i) : ""; // no '=': an empty value
                    pairs.add(new String[] {name, value});
                }
                start = i + 1;
            }
        }
        pairs.sort((p, q) -> {
            int byName = CanonicalJson.BY_CODE_POINT.compare(p[0], q[0]);
            return byName != 0 ? byName : CanonicalJson.BY_CODE_POINT.compare(p[1], q[1]);
        });
        StringBuilder out = new StringBuilder();
        for (String[] pair : pairs) {
            out.append(out.length() == 0 ? "" : "&").append(rfc3986(pair[0])).append('=').append(rfc3986(pair[1]));
        }
        return out.toString();
    }

    public static String canonicalQuery(String rawQuery) {
        return canonicalQuery(rawQuery == null ? new byte[0] : rawQuery.getBytes(StandardCharsets.UTF_8));
    }

    /** Form rules: '+' is a space, %XX a byte (an invalid escape such as %zz stays literal), UTF-8 with U+FFFD. */
    private static String formDecode(byte[] raw, int from, int to) {
        byte[] out = new byte[to - from];
        int n = 0;
        for (int i = from; i < to; i++) {
            byte b = raw[i];
            if (b == '+') {
                out[n++] = ' ';
            } else if (b == '%' && i + 2 < to && hexDigit(raw[i + 1]) >= 0 && hexDigit(raw[i + 2]) >= 0) {
                out[n++] = (byte) (hexDigit(raw[i + 1]) * 16 + hexDigit(raw[i + 2]));
                i += 2;
            } else {
                out[n++] = b;
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8); // malformed input becomes U+FFFD
    }

    private static int hexDigit(byte b) {
        return Character.digit(b, 16);
    }

    /** RFC 3986: A-Z a-z 0-9 - . _ ~ kept, every other byte of the UTF-8 form as %XX upper case. */
    private static String rfc3986(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            boolean unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~';
            out.append(unreserved ? String.valueOf(c) : String.format("%%%02X", (int) c));
        }
        return out.toString();
    }

    /** METHOD \n PATH \n CANONICAL_QUERY \n TIMESTAMP \n NONCE \n hex(SM3(body)); PATH as sent, no query. */
    public static String canonicalString(
            String method, String path, byte[] rawQuery, String timestamp, String nonce, byte[] body) {
        return String.join("\n", method.toUpperCase(), path, canonicalQuery(rawQuery), timestamp, nonce, sm3Hex(body));
    }

    /** The four SIG-01 headers of one request; `body` is exactly the bytes sent (empty for a GET). */
    public static Map<String, String> signedHeaders(
            String appId, String secret, String method, String path, String rawQuery, byte[] body,
            String timestamp, String nonce) {
        String stamp = timestamp != null ? timestamp : Long.toString(System.currentTimeMillis() / 1000);
        String once = nonce != null ? nonce : newNonce();
        byte[] query = (rawQuery == null ? "" : rawQuery).getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(APP_ID, appId);
        headers.put(TIMESTAMP, stamp);
        headers.put(NONCE, once);
        headers.put(SIGNATURE, hmacSm3Hex(secret, canonicalString(method, path, query, stamp, once, body)));
        return headers;
    }

    /** 32 characters of [0-9a-f] from a secure random source. */
    public static String newNonce() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HEX.formatHex(bytes);
    }

    // ------------------------------------------------------------------------------------------ SIG-02

    public static final int TIMESTAMP_WINDOW = 300; // seconds either way
    public static final int NONCE_WINDOW = 600; // seconds a nonce is remembered per app
    private static final Pattern DIGITS = Pattern.compile("[0-9]+");
    private static final Pattern NONCE_SYNTAX = Pattern.compile("[A-Za-z0-9-]{16,64}");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    /** Why a request was refused: answer 401 with this code (MSG-02 body). */
    public record Rejection(String code, String message) {}

    /** Nonces seen per app in the last 600 s. One process only: replicas must share it (e.g. Redis SET NX EX). */
    public static final class NonceMemory {
        private final Map<String, Long> seen = new ConcurrentHashMap<>();

        /** True and remembered when fresh; false when the app used this nonce in the last 600 s. */
        public synchronized boolean claim(String appId, String nonce, long now) {
            String key = appId + "\u0000" + nonce;
            Long at = seen.get(key);
            if (at != null && now - at <= NONCE_WINDOW) {
                return false;
            }
            if (seen.size() > 100_000) {
                seen.values().removeIf(t -> now - t > NONCE_WINDOW);
            }
            seen.put(key, now);
            return true;
        }
    }

    /**
     * SIG-02 in the norm's order: headers present, app known, header syntax, timestamp window, signature,
     * nonce (remembered only once its signature verified). Null when accepted. `header` looks a header up by
     * name (case-insensitively); `secretOf` gives the caller's secret or null; `rawQuery` is undecoded.
     */
    public static Rejection verifyRequest(
            String method, String path, byte[] rawQuery, Function<String, String> header, byte[] body,
            Function<String, String> secretOf, NonceMemory nonces, long now) {
        List<String> missing = new ArrayList<>();
        for (String name : List.of(APP_ID, TIMESTAMP, NONCE, SIGNATURE)) {
            String value = header.apply(name);
            if (value == null || value.isEmpty()) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            return new Rejection("SIGNATURE_MISSING", "missing signature header(s): " + String.join(", ", missing));
        }
        String appId = header.apply(APP_ID);
        String stamp = header.apply(TIMESTAMP);
        String nonce = header.apply(NONCE);
        String signature = header.apply(SIGNATURE);
        String secret = secretOf.apply(appId);
        if (secret == null) {
            return new Rejection("APP_UNKNOWN", "app id " + appId + " is not registered");
        }
        if (!DIGITS.matcher(stamp).matches() || !NONCE_SYNTAX.matcher(nonce).matches()
                || !HEX64.matcher(signature).matches()) {
            return new Rejection("SIGNATURE_INVALID", "timestamp must be Unix seconds, nonce 16-64 of [A-Za-z0-9-]");
        }
        if (new BigInteger(stamp).subtract(BigInteger.valueOf(now)).abs().compareTo(BigInteger.valueOf(TIMESTAMP_WINDOW)) > 0) {
            return new Rejection("TIMESTAMP_EXPIRED", "timestamp " + stamp + " is more than 300 s from now");
        }
        String expected = hmacSm3Hex(secret, canonicalString(method, path, rawQuery, stamp, nonce, body));
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), signature.getBytes(StandardCharsets.US_ASCII))) {
            return new Rejection("SIGNATURE_INVALID", "signature does not match the canonical string");
        }
        if (!nonces.claim(appId, nonce, now)) {
            return new Rejection("NONCE_REPLAYED", "nonce " + nonce + " was used already");
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------ SSO-02

    private static final byte[] DEFAULT_USER_ID = "1234567812345678".getBytes(StandardCharsets.US_ASCII);
    private static final X9ECParameters SM2_CURVE = GMNamedCurves.getByName("sm2p256v1");
    private static final ECDomainParameters SM2_DOMAIN = new ECDomainParameters(
            SM2_CURVE.getCurve(), SM2_CURVE.getG(), SM2_CURVE.getN(), SM2_CURVE.getH());

    /** The SSO-02 signed bytes: canonical JSON of `user` immediately followed by the issued_at string. */
    public static byte[] userRecordBytes(Object user, String issuedAt) {
        return (CanonicalJson.write(user) + issuedAt).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * True when `signatureHex` (r||s, 64 bytes) is the SM2 signature (SM3, Z from the default user id
     * 1234567812345678) of the IdP key `publicKeyHex` (04||x||y from GET /idp/v1/keys, the entry whose kid is
     * the answer's kid) over the user record and issued_at.
     */
    public static boolean verifyUserRecord(Object user, String issuedAt, String signatureHex, String publicKeyHex) {
        try {
            byte[] signature = HEX.parseHex(signatureHex.toLowerCase());
            byte[] point = HEX.parseHex(publicKeyHex.toLowerCase());
            if (signature.length != 64 || point.length != 65 || point[0] != 4) {
                return false;
            }
            ECPublicKeyParameters key = new ECPublicKeyParameters(SM2_DOMAIN.getCurve().decodePoint(point), SM2_DOMAIN);
            SM2Signer verifier = new SM2Signer(PlainDSAEncoding.INSTANCE); // r||s, not DER
            verifier.init(false, new ParametersWithID(key, DEFAULT_USER_ID));
            byte[] message = userRecordBytes(user, issuedAt);
            verifier.update(message, 0, message.length);
            return verifier.verifySignature(signature);
        } catch (IllegalArgumentException e) { // bad hex, a point off the curve
            return false;
        }
    }

    /** The same for a whole validate answer {"user", "issued_at", "kid", "signature"}. */
    public static boolean verifyUserRecord(Map<String, Object> answer, String publicKeyHex) {
        return answer.get("user") instanceof Map
                && answer.get("issued_at") instanceof String issuedAt
                && answer.get("signature") instanceof String signature
                && verifyUserRecord(answer.get("user"), issuedAt, signature, publicKeyHex);
    }

    // ------------------------------------------------------------------------------------------ HTTP

    // HTTP/1.1: the JDK's default HTTP/2 attempt sends an h2c upgrade that many servers refuse or mishandle
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** One signed call (SIG-01; with a bearer token when given). The path and query are sent exactly as signed. */
    public static HttpResponse<String> signedCall(
            String baseUrl, String appId, String secret, String method, String pathAndQuery, byte[] body,
            String contentType, String token) throws IOException, InterruptedException {
        URI uri = URI.create(baseUrl.replaceAll("/+$", "") + pathAndQuery); // https and a path prefix are fine
        String path = uri.getRawPath(); // signed exactly as sent, the base URL's prefix included
        String rawQuery = uri.getRawQuery() == null ? "" : uri.getRawQuery();
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Accept", "application/json");
        signedHeaders(appId, secret, method, path, rawQuery, body, null, null).forEach(request::header);
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** SIG-03: a client-credentials token for the scopes asked (reuse it until it expires, SIG-04). */
    @SuppressWarnings("unchecked")
    public static String obtainToken(String provinceUrl, String appId, String secret, String scope)
            throws IOException, InterruptedException {
        byte[] form = ("grant_type=client_credentials&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8))
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = signedCall(
                provinceUrl, appId, secret, "POST", "/idp/v1/oauth/token", form, "application/x-www-form-urlencoded", null);
        if (answer.statusCode() != 200) {
            throw new IOException("token request answered " + answer.statusCode() + ": " + answer.body());
        }
        return (String) ((Map<String, Object>) CanonicalJson.parse(answer.body())).get("access_token");
    }

    // ------------------------------------------------------------------------------------------ CLI

    private static int vector() {
        String[][] expected = {
            {"canonicalQuery", "dept_uscc=11330106002500287C&name=%E8%A5%BF%E6%B9%96%20%E5%8C%BA&page=2"},
            {"bodySm3", "d475e8e5cbf60a0cae1ac5402f47f5c0e9e932275444b19a2b54eaf16fc7c22d"},
            {"emptySm3", "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"},
            {"signature", "14fafbfd8c55ca06deb3a1c76dfe41dba6633bf55d2012eaef3f3b8073503425"},
        };
        String rawQuery = "page=2&dept_uscc=11330106002500287C&name=%E8%A5%BF%E6%B9%96+%E5%8C%BA";
        byte[] body = "{\"application_no\":\"33010612026112700000421\"}".getBytes(StandardCharsets.UTF_8);
        String[] got = {
            canonicalQuery(rawQuery),
            sm3Hex(body),
            sm3Hex(new byte[0]),
            signedHeaders("any", "yzw-demo-secret-0123456789abcdef", "POST", "/yzw/v1/applications", rawQuery, body,
                    "1795829400", "0f3c2a9e6d1b4c8e").get(SIGNATURE),
        };
        boolean ok = true;
        for (int i = 0; i < got.length; i++) {
            boolean same = got[i].equals(expected[i][1]);
            ok &= same;
            System.out.println(expected[i][0] + " " + got[i] + " " + (same ? "OK" : "MISMATCH, the norm says " + expected[i][1]));
        }
        return ok ? 0 : 1;
    }

    private static int call(String provinceUrl, String appId, String secret, String pathAndQuery) throws Exception {
        String token = obtainToken(provinceUrl, appId, secret, "catalog:read");
        HttpResponse<String> answer = signedCall(provinceUrl, appId, secret, "GET", pathAndQuery, new byte[0], null, token);
        System.out.println(answer.statusCode() + " " + answer.body());
        return answer.statusCode() == 200 ? 0 : 1;
    }

    @SuppressWarnings("unchecked")
    private static int sso(String provinceUrl, String appId, String secret, String ticket) throws Exception {
        String token = obtainToken(provinceUrl, appId, secret, "idp:ticket");
        Map<String, Object> request = Map.of("ticket", ticket, "app_id", appId);
        byte[] body = CanonicalJson.write(request).getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> validated = signedCall(
                provinceUrl, appId, secret, "POST", "/idp/v1/tickets/validate", body, "application/json", token);
        if (validated.statusCode() != 200) {
            System.out.println("refused: validate answered " + validated.statusCode() + " " + validated.body());
            return 1;
        }
        Map<String, Object> answer = (Map<String, Object>) CanonicalJson.parse(validated.body());
        HttpResponse<String> keys = HTTP.send(
                HttpRequest.newBuilder(URI.create(provinceUrl + "/idp/v1/keys")).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        String publicKey = "";
        for (Object entry : (List<Object>) ((Map<String, Object>) CanonicalJson.parse(keys.body())).get("keys")) {
            Map<String, Object> key = (Map<String, Object>) entry;
            if (key.get("kid").equals(answer.get("kid")) && "SM2".equals(key.get("alg"))) {
                publicKey = (String) key.get("public_key");
            }
        }
        return reportUser(answer, publicKey, "");
    }

    private static int reportUser(Map<String, Object> answer, String publicKeyHex, String label) {
        if (!verifyUserRecord(answer, publicKeyHex)) {
            System.out.println(label + "INVALID: the SM2 signature does not verify; refuse the login (SSO-02)");
            return 1;
        }
        System.out.println(label + "valid " + CanonicalJson.write(answer.get("user")));
        return 0;
    }

    private static void serve(int port, String platformAppId, String platformSecret) throws IOException {
        NonceMemory nonces = new NonceMemory();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                handle(exchange, platformAppId, platformSecret, nonces);
            }
        });
        server.start();
        System.out.println("listening " + server.getAddress().getPort());
    }

    private static void handle(HttpExchange exchange, String platformAppId, String platformSecret, NonceMemory nonces)
            throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        URI uri = exchange.getRequestURI();
        String rawQuery = uri.getRawQuery() == null ? "" : uri.getRawQuery();
        Rejection rejection = verifyRequest(
                exchange.getRequestMethod(),
                uri.getRawPath(),
                rawQuery.getBytes(StandardCharsets.ISO_8859_1), // the bytes as received
                exchange.getRequestHeaders()::getFirst,
                body,
                appId -> appId.equals(platformAppId) ? platformSecret : null,
                nonces,
                System.currentTimeMillis() / 1000);
        String answer = rejection == null
                ? "{}"
                : CanonicalJson.write(Map.of("code", rejection.code(), "message", rejection.message(), "details", List.of()));
        System.out.println((rejection == null ? "accepted" : "rejected " + rejection.code()) + " "
                + exchange.getRequestMethod() + " " + uri.getRawPath());
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(rejection == null ? 200 : 401, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "";
        int code;
        if (mode.equals("vector") && args.length == 1) {
            code = vector();
        } else if (mode.equals("call") && args.length == 5) {
            code = call(args[1], args[2], args[3], args[4]);
        } else if (mode.equals("sso") && args.length == 5) {
            code = sso(args[1], args[2], args[3], args[4]);
        } else if (mode.equals("verify-user") && args.length >= 3) {
            code = 0; // every file must verify; one line per file
            for (int i = 2; i < args.length; i++) {
                String text = Files.readString(Path.of(args[i]), StandardCharsets.UTF_8);
                code = Math.max(code, reportUser((Map<String, Object>) CanonicalJson.parse(text), args[1], args[i] + ": "));
            }
        } else if (mode.equals("canonical-query")) {
            for (int i = 1; i < args.length; i++) {
                System.out.println(canonicalQuery(args[i]));
            }
            code = 0;
        } else if (mode.equals("serve") && args.length == 4) {
            serve(Integer.parseInt(args[1]), args[2], args[3]);
            return; // serves until killed
        } else {
            System.err.println("usage: YzwSigning vector | call URL APP_ID SECRET PATH | sso URL APP_ID SECRET TICKET"
                    + " | verify-user PUBLIC_KEY_HEX ANSWER.json... | serve PORT PLATFORM_APP_ID PLATFORM_SECRET"
                    + " | canonical-query RAW_QUERY...");
            code = 2;
        }
        System.exit(code);
    }
}
