package io.ironruntime.pii;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ScannerTest {
    private static final Scanner ALL = Scanner.all();

    /** "TYPE:value" for each detection, so failures show what was found. */
    private static List<String> found(String text) {
        return ALL.scan(text).stream().map(d -> d.type() + ":" + text.substring(d.start(), d.end()))
                .collect(Collectors.toList());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Mail me at jane.doe+test@example.co.uk. Thanks|EMAIL|jane.doe+test@example.co.uk",
        "Schreib an jürgen.müller@example.de bitte|EMAIL|jürgen.müller@example.de",
        "écrivez à Pelé@exemple.fr.|EMAIL|Pelé@exemple.fr",
        "почта иван@почта.рф|EMAIL|иван@почта.рф",
        "call +1 415 555 2671 today|PHONE|+1 415 555 2671",
        "office (415) 555-2671, ask for Bob|PHONE|(415) 555-2671",
        "card 4111 1111 1111 1111 exp 12/29|CREDIT_CARD|4111 1111 1111 1111",
        "card 4111-1111-1111-1111.|CREDIT_CARD|4111-1111-1111-1111",
        "mc 2221000000000009|CREDIT_CARD|2221000000000009",
        "ssn: 123-45-6789|US_SSN|123-45-6789",
        "IBAN GB82 WEST 1234 5698 7654 32 please|IBAN|GB82 WEST 1234 5698 7654 32",
        "iban=DE89370400440532013000|IBAN|DE89370400440532013000",
        "server 192.168.10.7 is down|IP_ADDRESS|192.168.10.7",
        "v6 2001:db8::8a2e:370:7334.|IP_ADDRESS|2001:db8::8a2e:370:7334",
        "loopback ::1 here|IP_ADDRESS|::1",
        "key=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z|OPENAI_KEY|sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "\"sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe\"|ANTHROPIC_KEY|sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe",
        "aws AKIAZ7VQ4RX2MBT5NLQ3 secret|AWS_ACCESS_KEY|AKIAZ7VQ4RX2MBT5NLQ3",
        "token ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0dF3hJ6 ok|GITHUB_TOKEN|ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0dF3hJ6",
        "SLACK=xoxb-123456789012-abcdefABCDEF|SLACK_TOKEN|xoxb-123456789012-abcdefABCDEF",
    })
    void findsEachTypeInContext(String text, EntityType type, String value) {
        assertEquals(List.of(type + ":" + value), found(text));
    }

    @Test
    void jwtAndPrivateKeyBlocks() {
        String jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assertEquals(List.of("JWT:" + jwt), found("Authorization: Bearer " + jwt));
        String pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----";
        assertEquals(List.of("PRIVATE_KEY:" + pem), found("key:\n" + pem + "\nthanks"));
        assertEquals(List.of(), found("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"));
        assertTrue(found("-----BEGIN PRIVATE KEY-----\nMIIEv...cut off").get(0).startsWith("PRIVATE_KEY:"),
                "an unterminated key block is redacted to the end (fail closed)");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "4111 1111 1111 1112",              // fails Luhn
        "490154203237518",                  // a Luhn-valid IMEI
        "order 1234567812345670 shipped",   // Luhn-valid, no card network
        "id 550e8400-e29b-41d4-a716-446655440000",
        "commit 4f9d3c2a1b0e8f7d6c5b4a39281706f5e4d3c2b1",
        "ts 1700000000123",
        "ZIP 94103-1234",
        "ssn 000-12-3456, 666-12-3456, 912-34-5678",
        "GB82 WEST 1234 5698 7654 33",      // wrong check digits
        "npm i lodash@4.17.21",
        "git clone git@github.com:org/repo.git",
        "placeholder sk-... and sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "AKIAIOSFODNN7EXAMPLE",
        "time 12:30:45 and 256.1.1.1",
        "release v1.2.3.4",
        "task-sk-abcdefghijklmnopqrstuvwx",
    })
    void hardNegativesAreLeftAlone(String text) {
        assertEquals(List.of(), found(text));
    }

    @Test
    void offsetsAndSwitchedOffDetectors() {
        String text = "a@example.com then 123-45-6789";
        List<Detection> d = ALL.scan(text);
        assertEquals(new Detection(EntityType.EMAIL, 0, 13), d.get(0));
        assertEquals(new Detection(EntityType.US_SSN, 19, 30), d.get(1));
        Scanner noEmail = new Scanner(EnumSet.complementOf(EnumSet.of(EntityType.EMAIL)), "US");
        assertEquals(List.of(new Detection(EntityType.US_SSN, 19, 30)), noEmail.scan(text));
        assertEquals(List.of(new Detection(EntityType.US_SSN, 19, 30)), ALL.scan(text, 5, text.length()));
    }

    @Test
    void manyValuesInOneTextAllFoundInOrder() {
        String text = "{\"to\":\"ann@corp.io\",\"cc\":\"bo@corp.io\",\"card\":\"5555555555554444\",\"ip\":\"10.0.0.1\"}";
        assertEquals(List.of("EMAIL:ann@corp.io", "EMAIL:bo@corp.io", "CREDIT_CARD:5555555555554444",
                "IP_ADDRESS:10.0.0.1"), found(text));
    }
}
