package io.ironruntime.pii;

/** What the scanner detects. The name is what users see ({@code [EMAIL_REDACTED]}, audit rows, metrics). */
public enum EntityType {
    EMAIL,
    PHONE,
    CREDIT_CARD,
    US_SSN,
    IBAN,
    IP_ADDRESS,
    OPENAI_KEY,
    ANTHROPIC_KEY,
    AWS_ACCESS_KEY,
    GITHUB_TOKEN,
    SLACK_TOKEN,
    JWT,
    PRIVATE_KEY
}
