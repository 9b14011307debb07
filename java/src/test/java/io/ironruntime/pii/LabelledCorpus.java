package io.ironruntime.pii;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberFormat;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberType;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Deterministic generator of labelled documents for scanner accuracy tests: positives of every
 * {@link EntityType}, generated validly and embedded in chat, markdown, JSON, log and code
 * contexts, plus hard negatives (look-alikes that must not be detected).
 */
final class LabelledCorpus {

    /** One document: its text, the region a scanner should assume for national phone numbers, and its expected spans. */
    record Doc(String text, String region, List<Detection> expected) { }

    private static final PhoneNumberUtil PHONE = PhoneNumberUtil.getInstance();
    private static final String UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private static final String LOWER = "abcdefghijklmnopqrstuvwxyz";
    private static final String DIGITS = "0123456789";
    private static final String ALNUM = UPPER + LOWER + DIGITS;
    private static final String B64URL = ALNUM + "-_";
    private static final String B64 = ALNUM + "+/";
    private static final String HEX = "0123456789abcdef";

    private final Random r;

    LabelledCorpus(long seed) {
        this.r = new Random(seed);
    }

    // ---- documents -------------------------------------------------------------------------------

    /** {@code perType} documents whose main value is of each type; a quarter also carry a second value. */
    List<Doc> positives(int perType) {
        List<Doc> docs = new ArrayList<>();
        for (EntityType t : EntityType.values()) {
            for (int n = 0; n < perType; n++) {
                Value v = value(t);
                String[] c = namedContext(t, v.text);
                String text = c[0] + c[1] + c[2];
                List<Detection> exp = new ArrayList<>();
                exp.add(new Detection(t, c[0].length(), c[0].length() + c[1].length()));
                if ("US".equals(v.region) && r.nextInt(4) == 0) {
                    EntityType t2 = EntityType.values()[r.nextInt(EntityType.values().length)];
                    Value v2 = value(t2);
                    if ("US".equals(v2.region)) {
                        String[] c2 = namedContext(t2, v2.text);
                        int base = text.length() + 1;
                        text = text + "\n" + c2[0] + c2[1] + c2[2];
                        exp.add(new Detection(t2, base + c2[0].length(), base + c2[0].length() + c2[1].length()));
                    }
                }
                docs.add(new Doc(text, v.region, exp));
            }
        }
        return docs;
    }

    List<Doc> negatives(int count) {
        List<Doc> docs = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            String[] c = negative();
            String text;
            if (c.length == 1) {
                text = c[0];
            } else {
                String[] x = context(null, c[1], c[0]);
                text = x[0] + x[1] + x[2];
            }
            docs.add(new Doc(text, "US", List.of()));
        }
        return docs;
    }

    private record Value(String text, String region) { }

    private Value value(EntityType t) {
        return switch (t) {
            case EMAIL -> us(email());
            case PHONE -> phone();
            case CREDIT_CARD -> us(card(true));
            case US_SSN -> us(ssn());
            case IBAN -> us(iban(true));
            case IP_ADDRESS -> us(r.nextBoolean() ? ipv4() : ipv6());
            case OPENAI_KEY -> us(r.nextBoolean() ? "sk-" + rnd(ALNUM, 48) : "sk-proj-" + rnd(B64URL, 100 + r.nextInt(60)));
            case ANTHROPIC_KEY -> us("sk-ant-api03-" + rnd(B64URL, 93) + "AA");
            case AWS_ACCESS_KEY -> us((r.nextBoolean() ? "AKIA" : "ASIA") + rnd(UPPER + DIGITS, 16));
            case GITHUB_TOKEN -> us(r.nextInt(3) == 0 ? "github_pat_" + rnd(ALNUM, 22) + "_" + rnd(ALNUM, 59)
                    : "gh" + pick("p", "p", "o", "u", "s", "r") + "_" + rnd(ALNUM, 36));
            case SLACK_TOKEN -> us(r.nextBoolean()
                    ? "xoxb-" + rnd(DIGITS, 10 + r.nextInt(4)) + "-" + rnd(DIGITS, 10 + r.nextInt(4)) + "-" + rnd(ALNUM, 24)
                    : "xoxp-" + rnd(DIGITS, 10 + r.nextInt(4)) + "-" + rnd(DIGITS, 10 + r.nextInt(4)) + "-"
                            + rnd(DIGITS, 10 + r.nextInt(4)) + "-" + rnd(HEX, 32));
            case JWT -> us(jwt());
            case PRIVATE_KEY -> us(pem());
        };
    }

    private static Value us(String s) {
        return new Value(s, "US");
    }

    // ---- contexts --------------------------------------------------------------------------------

    /**
     * A context for a positive. Nine bare digits are an SSN only where the text names it (order
     * numbers look the same), so a bare SSN gets one of the contexts whose line says "SSN".
     */
    private String[] namedContext(EntityType t, String v) {
        String[] c = context(t, v);
        while (t == EntityType.US_SSN && v.length() == 9 && !Scanner.ssnNamedBefore(c[0] + c[1], c[0].length(), 0)) {
            c = context(t, v);
        }
        return c;
    }

    /** prefix, value (possibly escaped for JSON), suffix. */
    private String[] context(EntityType t, String v) {
        return context(t, v, t == null ? "value" : label(t));
    }

    private String[] context(EntityType t, String v, String label) {
        String key = label.toLowerCase(Locale.ROOT).replace(' ', '_');
        boolean multiline = v.indexOf('\n') >= 0;
        switch (r.nextInt(16)) {
            case 0: return new String[] {"Hi, my " + label + " is ", v, ", thanks!"};
            case 1: return new String[] {"can you double-check " + (multiline ? "this:\n" : ""), v, multiline ? "\nplease?" : "?"};
            case 2: return new String[] {"Sure. Here it is: ", v, ""};
            case 3: return new String[] {"I tried the one you sent (", v, ") but it didn't work."};
            case 4: return new String[] {"- **" + label + "**: `", v, "`"};
            case 5: return multiline ? new String[] {"Here:\n\n", v, "\n\nDone."} : new String[] {"| " + label + " | ", v, " |"};
            case 6: return new String[] {"```\n", v, "\n```"};
            case 7: {
                String e = v.replace("\n", "\\n");
                return new String[] {"{\"id\": 42, \"" + key + "\": \"", e, "\", \"ok\": true}"};
            }
            case 8: return new String[] {"{\"" + key + "\":\"", v.replace("\n", "\\n"), "\"}"};
            case 9: return new String[] {"2024-05-01T12:00:00Z INFO [api] " + key + "=", v.replace("\n", "\\n"), " status=200"};
            case 10: return new String[] {"[WARN] rejected " + label + " ", v.replace("\n", "\\n"), " from client"};
            case 11: return new String[] {"String " + camel(key) + " = \"", v.replace("\n", "\\n"), "\";"};
            case 12: return new String[] {camel(key) + " = '", v.replace("\n", "\\n"), "'"};
            case 13: return new String[] {"export " + key.toUpperCase(Locale.ROOT) + "=", v.replace("\n", "\\n"), ""};
            case 14: return multiline ? new String[] {key + ": |\n  ", v.replace("\n", "\n  "), "\nnext: 1"}
                    : new String[] {"  " + key + ": ", v, "\n  retries: 3"};
            default: return new String[] {"Please use ", v, " for now."};
        }
    }

    private static String camel(String key) {
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char c : key.toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                b.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return b.toString();
    }

    private static String label(EntityType t) {
        return switch (t) {
            case EMAIL -> "email";
            case PHONE -> "phone";
            case CREDIT_CARD -> "card";
            case US_SSN -> "SSN";
            case IBAN -> "IBAN";
            case IP_ADDRESS -> "ip";
            case OPENAI_KEY, ANTHROPIC_KEY -> "api key";
            case AWS_ACCESS_KEY -> "aws access key id";
            case GITHUB_TOKEN, SLACK_TOKEN -> "token";
            case JWT -> "session token";
            case PRIVATE_KEY -> "private key";
        };
    }

    // ---- positives -------------------------------------------------------------------------------

    private String email() {
        String[] first = {"jane", "john", "ana", "li", "olu", "marie", "k", "sven", "priya", "bob"};
        String[] last = {"doe", "smith", "ng", "garcia", "okafor", "muller", "o-brien", "tanaka", "x"};
        String f = pick(first);
        String l = pick(last);
        String local = switch (r.nextInt(8)) {
            case 0 -> f + "." + l;
            case 1 -> f + "_" + l;
            case 2 -> f.charAt(0) + l;
            case 3 -> f + "+" + pick("test", "news", "work", "2024");
            case 4 -> f + "." + l + r.nextInt(1000);
            case 5 -> f + "-" + l;
            case 6 -> pick("support", "billing", "noreply", "ops-team", "admin");
            default -> f + r.nextInt(100);
        };
        String domain = pick("example.com", "corp.io", "mail.example.co.uk", "my-company.org", "gmail.com", "uni-bonn.de",
                "sub.domain.dev", "startup.ai", "acme.net", "post.example.fr");
        if (r.nextInt(3) == 0) {
            domain = pick("eu", "us", "mx1", "staff") + "." + domain;
        }
        String e = local + "@" + domain;
        return r.nextInt(10) == 0 ? Character.toUpperCase(e.charAt(0)) + e.substring(1).replace("example", "Example") : e;
    }

    private Value phone() {
        String region = pick("US", "US", "US", "GB", "DE");
        PhoneNumberType type = region.equals("US") ? PhoneNumberType.FIXED_LINE
                : r.nextBoolean() ? PhoneNumberType.FIXED_LINE : PhoneNumberType.MOBILE;
        PhoneNumber n = null;
        for (int attempt = 0; attempt < 50 && n == null; attempt++) {
            PhoneNumber ex = PHONE.getExampleNumberForType(region, type);
            String nsn = PHONE.getNationalSignificantNumber(ex);
            String varied = region.equals("US")
                    ? pick("201", "212", "312", "415", "617", "646", "702", "713", "206", "305") + (2 + r.nextInt(8)) + rnd(DIGITS, 6)
                    : nsn.substring(0, nsn.length() - 4) + rnd(DIGITS, 4);
            PhoneNumber cand = new PhoneNumber().setCountryCode(ex.getCountryCode()).setNationalNumber(Long.parseLong(varied));
            if (PHONE.isValidNumber(cand)) {
                n = cand;
            }
        }
        if (n == null) {
            n = PHONE.getExampleNumberForType(region, type);
        }
        String e164 = PHONE.format(n, PhoneNumberFormat.E164);
        String intl = PHONE.format(n, PhoneNumberFormat.INTERNATIONAL);
        String nat = PHONE.format(n, PhoneNumberFormat.NATIONAL);
        if (region.equals("US")) {
            String d = PHONE.getNationalSignificantNumber(n);
            String a = d.substring(0, 3);
            String b = d.substring(3, 6);
            String c = d.substring(6);
            return us(switch (r.nextInt(8)) {
                case 0 -> e164;
                case 1 -> intl;
                case 2 -> nat;
                case 3 -> a + "-" + b + "-" + c;
                case 4 -> a + "." + b + "." + c;
                case 5 -> "+1 (" + a + ") " + b + "-" + c;
                case 6 -> "1-" + a + "-" + b + "-" + c;
                default -> "+1-" + a + "-" + b + "-" + c;
            });
        }
        return switch (r.nextInt(3)) {
            case 0 -> us(e164);
            case 1 -> us(intl);
            default -> new Value(nat, region);
        };
    }

    private String cardDigits(boolean valid) {
        String prefix;
        int len;
        switch (r.nextInt(8)) {
            case 0 -> { prefix = "4"; len = pickInt(13, 16, 16, 16, 19); }
            case 1 -> { prefix = r.nextBoolean() ? "5" + (1 + r.nextInt(5)) : String.valueOf(2221 + r.nextInt(500)); len = 16; }
            case 2 -> { prefix = pick("34", "37"); len = 15; }
            case 3 -> { prefix = pick("6011", String.valueOf(644 + r.nextInt(6)), "65", String.valueOf(622126 + r.nextInt(800))); len = 16 + r.nextInt(4); }
            case 4 -> { prefix = String.valueOf(3528 + r.nextInt(62)); len = 16 + r.nextInt(4); }
            case 5 -> { prefix = pick(String.valueOf(300 + r.nextInt(6)), "36", "38", "39"); len = 14 + r.nextInt(6); }
            case 6 -> { prefix = "62" + pick("0", "1", "3", "4", "5", "8"); len = 16 + r.nextInt(4); }
            default -> { prefix = pick("50", "56", "57", "58", "6759", "6761"); len = 12 + r.nextInt(8); }
        }
        String body = prefix + rnd(DIGITS, len - 1 - prefix.length());
        int check = luhnCheck(body);
        if (!valid) {
            check = (check + 1 + r.nextInt(9)) % 10;
        }
        return body + check;
    }

    private String card(boolean valid) {
        String d = cardDigits(valid);
        int f = r.nextInt(3);
        if (f == 0) {
            return d;
        }
        char sep = f == 1 ? ' ' : '-';
        int[] groups = switch (d.length()) {
            case 15 -> d.startsWith("34") || d.startsWith("37") ? new int[] {4, 6, 5} : new int[] {4, 4, 4, 3};
            case 14 -> new int[] {4, 6, 4};
            case 13 -> new int[] {4, 3, 3, 3};
            default -> null;
        };
        StringBuilder b = new StringBuilder();
        if (groups == null) {
            for (int i = 0; i < d.length(); i += 4) {
                b.append(i == 0 ? "" : sep).append(d, i, Math.min(d.length(), i + 4));
            }
        } else {
            int i = 0;
            for (int g : groups) {
                b.append(i == 0 ? "" : sep).append(d, i, i + g);
                i += g;
            }
        }
        return b.toString();
    }

    static int luhnCheck(String body) {
        int sum = 0;
        boolean dbl = true;
        for (int i = body.length() - 1; i >= 0; i--) {
            int d = body.charAt(i) - '0';
            if (dbl) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            dbl = !dbl;
        }
        return (10 - sum % 10) % 10;
    }

    private String ssn() {
        int area;
        do {
            area = 1 + r.nextInt(899);
        } while (area == 666);
        int group = 1 + r.nextInt(99);
        int serial = 1 + r.nextInt(9999);
        if (area == 78 && group == 5 && serial == 1120 || area == 219 && group == 9 && serial == 9999) {
            serial = 1234;
        }
        return ssnFormat(area, group, serial);
    }

    /** Nine bare digits that pass the SSN rules: an id unless the text says it is an SSN. */
    private String ssnShapedNumber() {
        int area;
        do {
            area = 1 + r.nextInt(899);
        } while (area == 666);
        return String.format("%03d%02d%04d", area, 1 + r.nextInt(99), 1 + r.nextInt(9999));
    }

    private String ssnFormat(int area, int group, int serial) {
        String sep = pick("-", "-", "-", " ", "");
        return String.format("%03d%s%02d%s%04d", area, sep, group, sep, serial);
    }

    private static final String[][] IBAN_FORMATS = {
        {"DE", "8n10n"}, {"GB", "4a6n8n"}, {"FR", "5n5n11c2n"}, {"NL", "4a10n"}, {"ES", "20n"}, {"IT", "1a5n5n12c"},
        {"BE", "12n"}, {"CH", "5n12c"}, {"AT", "16n"}, {"PL", "24n"}, {"SE", "20n"}, {"NO", "11n"}, {"DK", "14n"},
        {"IE", "4a6n8n"}, {"PT", "21n"}, {"LU", "3n13c"}, {"SA", "2n18c"}, {"BR", "23n1a1c"},
    };

    private String iban(boolean valid) {
        String[] f = IBAN_FORMATS[r.nextInt(IBAN_FORMATS.length)];
        StringBuilder bban = new StringBuilder();
        int num = 0;
        for (char c : f[1].toCharArray()) {
            if (Character.isDigit(c)) {
                num = num * 10 + (c - '0');
            } else {
                bban.append(rnd(c == 'n' ? DIGITS : c == 'a' ? UPPER : UPPER + DIGITS, num));
                num = 0;
            }
        }
        int check = 98 - mod97(bban + f[0] + "00");
        if (!valid) {
            check = 2 + (check - 2 + 1 + r.nextInt(95)) % 97;
        }
        String iban = f[0] + String.format("%02d", check) + bban;
        if (r.nextBoolean()) {
            return iban;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < iban.length(); i += 4) {
            b.append(i == 0 ? "" : " ").append(iban, i, Math.min(iban.length(), i + 4));
        }
        return b.toString();
    }

    private static int mod97(String s) {
        int rem = 0;
        for (char c : s.toCharArray()) {
            int v = Character.isDigit(c) ? c - '0' : c - 'A' + 10;
            rem = (v < 10 ? rem * 10 + v : rem * 100 + v) % 97;
        }
        return rem;
    }

    private String ipv4() {
        return (1 + r.nextInt(223)) + "." + r.nextInt(256) + "." + r.nextInt(256) + "." + (1 + r.nextInt(254));
    }

    private String group() {
        String g = Integer.toHexString(r.nextInt(r.nextBoolean() ? 0x10000 : 0x1000));
        return r.nextInt(8) == 0 ? g.toUpperCase(Locale.ROOT) : g;
    }

    private String ipv6() {
        List<String> g = new ArrayList<>();
        int total = 8;
        switch (r.nextInt(6)) {
            case 0 -> { return "::1"; }
            case 1 -> { return "::ffff:" + ipv4(); }
            case 2 -> {
                for (int i = 0; i < 8; i++) {
                    g.add(group());
                }
                return String.join(":", g);
            }
            case 3 -> { return "fe80::" + group() + ":" + group() + ":" + group() + ":" + group(); }
            default -> {
                String[] prefixes = {"2001:db8", "2001:4860:4860", "2606:4700", "2a00:1450:4001", "2a03:2880", "fd00"};
                String p = pick(prefixes);
                int used = p.split(":").length;
                int tail = 1 + r.nextInt(total - used - 1);
                for (int i = 0; i < tail; i++) {
                    g.add(group());
                }
                return p + "::" + String.join(":", g);
            }
        }
    }

    private String jwt() {
        String header = pick("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"typ\":\"JWT\",\"alg\":\"RS256\"}",
                "{\"alg\":\"ES256\",\"kid\":\"" + rnd(ALNUM, 8) + "\",\"typ\":\"JWT\"}", "{\"alg\": \"HS512\", \"typ\": \"JWT\"}",
                "{\"kid\":\"" + rnd(HEX, 16) + "\",\"alg\":\"RS256\"}");
        String payload = "{\"sub\":\"" + rnd(DIGITS, 10) + "\",\"name\":\"" + pick("Jane Doe", "John", "svc-bot")
                + "\",\"iat\":" + (1600000000 + r.nextInt(100000000)) + "}";
        String sig = rnd(B64URL, header.contains("RS256") ? 342 : header.contains("HS512") ? 86 : 43);
        return b64url(header) + "." + b64url(payload) + "." + sig;
    }

    private static String b64url(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private String pem() {
        String label = pick("RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY");
        StringBuilder b = new StringBuilder("-----BEGIN " + label + "-----\n");
        int lines = 2 + r.nextInt(8);
        for (int i = 0; i < lines; i++) {
            b.append(rnd(B64, i == lines - 1 ? 10 + r.nextInt(50) : 64)).append('\n');
        }
        return b.append("-----END ").append(label).append("-----").toString();
    }

    // ---- hard negatives --------------------------------------------------------------------------

    /** Either {text} (complete) or {label, value} to be put in a context. */
    private String[] negative() {
        switch (r.nextInt(25)) {
            case 24: return new String[] {pick("order", "ticket", "tracking number", "invoice"), ssnShapedNumber()};
            case 0: return new String[] {"card", card(false)};
            case 1: return new String[] {"IMEI", imei()};
            case 2: return new String[] {"order", pick("ORD-", "#", "") + pick(
                    rnd(DIGITS, 3) + "-" + rnd(DIGITS, 7) + "-" + rnd(DIGITS, 7), "100" + rnd(DIGITS, 5),
                    pick("1", "9") + luhnTail(pick("1", "9") + rnd(DIGITS, 14)))};
            case 3: return new String[] {"request id", rnd(HEX, 8) + "-" + rnd(HEX, 4) + "-4" + rnd(HEX, 3) + "-"
                    + pick("8", "9", "a", "b") + rnd(HEX, 3) + "-" + rnd(HEX, 12)};
            case 4: return new String[] {"commit", r.nextBoolean() ? rnd(HEX, 40) : rnd(HEX, 7)};
            case 5: return new String[] {"timestamp", r.nextBoolean() ? String.valueOf(1500000000 + r.nextInt(300000000))
                    : String.valueOf(1500000000000L + (long) (r.nextDouble() * 3e11))};
            case 6: {
                String v = r.nextInt(4) + "." + r.nextInt(30) + "." + r.nextInt(30) + "." + r.nextInt(300);
                return new String[] {pick("version " + v, "v" + v, "running release " + v + " now",
                        "\"version\": \"" + v + "\"", "Chrome/1" + rnd(DIGITS, 2) + ".0." + rnd(DIGITS, 4) + "." + rnd(DIGITS, 3))};
            }
            case 7: {
                String pkg = pick("lodash", "react", "express", "numpy", "spring-core");
                String ver = r.nextInt(20) + "." + r.nextInt(40) + "." + r.nextInt(40);
                return new String[] {pick(pkg + " " + ver, "npm i " + pkg + "@" + ver, pkg + "==" + ver, "\"" + pkg + "\": \"^" + ver + "\"")};
            }
            case 8: return new String[] {"ZIP", rnd(DIGITS, 5) + "-" + rnd(DIGITS, 4)};
            case 9: return new String[] {"SSN", badSsn()};
            case 10: return new String[] {"IBAN", iban(false)};
            case 11: return new String[] {pick("git clone git@github.com:" + pick("org", "acme", "me") + "/" + pick("repo", "api", "web-app") + ".git",
                    "remote: git@gitlab.com:team/project.git", "ssh git@bitbucket.org:x/y.git")};
            case 12: return new String[] {"api key", pick("sk-...", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "sk-...XXXX", "sk-proj-...",
                    "AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "ghp_...", "xoxb-...", "sk-ant-...", "YOUR_API_KEY", "<your-key>")};
            case 13: return new String[] {"date", pick(String.format("2024-%02d-%02d", 1 + r.nextInt(12), 1 + r.nextInt(28)),
                    String.format("%02d/%02d/20%02d", 1 + r.nextInt(12), 1 + r.nextInt(28), r.nextInt(30)),
                    String.format("%02d.%02d.20%02d", 1 + r.nextInt(28), 1 + r.nextInt(12), r.nextInt(30)), "May " + (1 + r.nextInt(28)) + ", 2024")};
            case 14: return new String[] {"time", pick(String.format("%02d:%02d", r.nextInt(24), r.nextInt(60)),
                    String.format("%02d:%02d:%02d", r.nextInt(24), r.nextInt(60), r.nextInt(60)),
                    String.format("%02d:%02d:%02d.%03d", r.nextInt(24), r.nextInt(60), r.nextInt(60), r.nextInt(1000)))};
            case 15: return new String[] {"price", pick("$" + r.nextInt(2000) + "." + rnd(DIGITS, 2), "€ " + r.nextInt(100) + ",50",
                    "$1," + rnd(DIGITS, 3) + "." + rnd(DIGITS, 2), r.nextInt(10) + " " + rnd(DIGITS, 3) + ",00 €", "USD 12,345.67")};
            case 16: return new String[] {"share", pick(r.nextInt(100) + "." + r.nextInt(100) + "%", r.nextInt(100) + " %", "99.95%")};
            case 17: return new String[] {"IMEI", imei()};
            case 18: return new String[] {"card", card(false)};
            case 19: return new String[] {"IBAN", iban(false)};
            case 20: return new String[] {"SSN", badSsn()};
            case 21: return new String[] {"build", "build " + rnd(DIGITS, 4) + " took " + r.nextInt(100) + "." + r.nextInt(10) + "s"};
            case 22: return new String[] {"timestamp", String.valueOf(1500000000000L + (long) (r.nextDouble() * 3e11))};
            default: return new String[] {"commit", rnd(HEX, 40)};
        }
    }

    private String luhnTail(String body) {
        return body + luhnCheck(body);
    }

    private String imei() {
        String tac = pick("35", "86", "01") + rnd(DIGITS, 6);
        String d = luhnTail(tac + rnd(DIGITS, 6));
        return r.nextInt(3) == 0 ? d.substring(0, 2) + "-" + d.substring(2, 8) + "-" + d.substring(8, 14) + "-" + d.substring(14) : d;
    }

    private String badSsn() {
        return switch (r.nextInt(6)) {
            case 0 -> ssnFormat(0, 1 + r.nextInt(99), 1 + r.nextInt(9999));
            case 1 -> ssnFormat(666, 1 + r.nextInt(99), 1 + r.nextInt(9999));
            case 2 -> ssnFormat(900 + r.nextInt(100), 1 + r.nextInt(99), 1 + r.nextInt(9999));
            case 3 -> ssnFormat(1 + r.nextInt(665), 0, 1 + r.nextInt(9999));
            case 4 -> ssnFormat(1 + r.nextInt(665), 1 + r.nextInt(99), 0);
            default -> r.nextBoolean() ? "078-05-1120" : "219-09-9999";
        };
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private String rnd(String alphabet, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    @SafeVarargs
    private <T> T pick(T... xs) {
        return xs[r.nextInt(xs.length)];
    }

    private int pickInt(int... xs) {
        return xs[r.nextInt(xs.length)];
    }
}
