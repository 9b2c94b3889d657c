// TOTP as an authenticator app computes it (RFC 6238: HMAC-SHA1, 6 digits,
// 30-second steps), from the base32 secret the enrolment page shows. Written
// here rather than taken from npm so the test depends on nothing but the
// browser driver and axe-core.
import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (upper or lower case, padding and spaces ignored). */
export function base32Decode(text) {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const index = ALPHABET.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(ch)} in the TOTP secret`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code for the 30-second step that contains `unixMillis`. */
export function totp(secretBase32, unixMillis = Date.now()) {
  const step = Math.floor(unixMillis / 1000 / 30);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

// RFC 6238 appendix B, SHA1 rows: the secret is ASCII "12345678901234567890"
// and the appendix prints 8 digits, of which a 6-digit code is the tail.
export function selfTest() {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  const vectors = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
  ];
  for (const [seconds, eight] of vectors) {
    const got = totp(secret, seconds * 1000);
    if (got !== eight.slice(2)) {
      throw new Error(`TOTP self-test: at ${seconds}s got ${got}, RFC 6238 says ${eight.slice(2)}`);
    }
  }
}
