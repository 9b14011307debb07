/** PII detection support: pure, allocation-free validators for candidate spans found by the scanner. */
package io.ironruntime.pii;
