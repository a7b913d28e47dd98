/**
 * Token secrets: how they are made, stored and compared.
 *
 * A token is `lb_` + 32 random bytes in base64url (256 bits, so a plain SHA-256 is a sufficient
 * stored form: there is nothing to brute-force, unlike a password). The prefix lets secret
 * scanners and redaction (lib/redact.ts) recognise one.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const TOKEN_PREFIX = "lb_";
/** Shape of a token Laneboard issues (43 base64url characters after the prefix). */
export const TOKEN_PATTERN = /^lb_[A-Za-z0-9_-]{43}$/;

/** A new random token secret. */
export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** The stored form of a secret: SHA-256, hex (64 characters). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/**
 * Compare two strings in time independent of where they differ. Both are hashed first, so the
 * comparison does not even reveal their lengths (`timingSafeEqual` needs equal lengths).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}

/** HMAC-SHA256 of `message` with `key`, base64url (43 characters). */
export function mac(key: string, message: string): string {
  return createHmac("sha256", key).update(message, "utf8").digest("base64url");
}
