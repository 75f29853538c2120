#!/usr/bin/env node
// YZW-NORM-2026 in Node.js: SIG-01 request signing, SIG-02 verification of the platform's calls, and SSO-02
// verification of the IdP's SM2-signed user record. SM3, HMAC-SM3 and SM2 come from sm-crypto (npm).
//
// Copy the functions you need into your system; the CLI at the bottom is what the kit's tests run:
//   node yzw-signing.js vector
//   node yzw-signing.js call  PROVINCE_URL APP_ID SECRET 'PATH?QUERY'
//   node yzw-signing.js sso   PROVINCE_URL APP_ID SECRET TICKET
//   node yzw-signing.js verify-user PUBLIC_KEY_HEX ANSWER.json...
//   node yzw-signing.js serve PORT PLATFORM_APP_ID PLATFORM_SECRET
//   node yzw-signing.js canonical-query RAW_QUERY...
'use strict';

const crypto = require('crypto');
const http = require('http');
const https = require('https');
const fs = require('fs');
const { sm2, sm3 } = require('sm-crypto');

// ---------------------------------------------------------------------------------------------- SIG-01

const RFC3986_UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Lowercase hex SM3 of raw bytes (a Buffer). SM3 of an empty body is 1ab21d83…082aa2b. */
function sm3Hex(bytes) {
  return sm3(Buffer.from(bytes)); // a Buffer is read as bytes; a JS string would be UTF-8 encoded first
}

/** Lowercase hex HMAC-SM3, keyed with the secret's UTF-8 bytes (sm-crypto reads a *string* key as hex). */
function hmacSm3Hex(secret, message) {
  return sm3(Buffer.from(message, 'utf8'), { key: Buffer.from(secret, 'utf8') });
}

/** Form decoding of one name or value: `+` is a space, `%XX` a byte (`%zz` stays literal), then UTF-8 with U+FFFD. */
function formDecode(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x2b) {
      out.push(0x20);
    } else if (b === 0x25 && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out.push(parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16));
      i += 2;
    } else {
      out.push(b);
    }
  }
  return new TextDecoder('utf-8').decode(Uint8Array.from(out)); // not fatal: bad bytes become U+FFFD
}

function isHex(b) {
  return b !== undefined && /[0-9A-Fa-f]/.test(String.fromCharCode(b));
}

/** RFC 3986: unreserved characters kept, every other byte of the UTF-8 form as %XX upper case. */
function rfc3986(text) {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && RFC3986_UNRESERVED.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Compare by Unicode code point (JS `<` compares UTF-16 code units, which differs above U+FFFF). */
function byCodePoint(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/**
 * SIG-01 CANONICAL_QUERY of the raw query (a string as sent, or a Buffer of the bytes received): split on `&`,
 * drop empty pairs, form-decode, sort by name then value (code points), RFC 3986 re-encode, join with `&`.
 */
function canonicalQuery(rawQuery) {
  const raw = Buffer.isBuffer(rawQuery) ? rawQuery : Buffer.from(rawQuery || '', 'utf8');
  const pairs = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === 0x26) {
      const segment = raw.subarray(start, i);
      start = i + 1;
      if (segment.length === 0) continue; // `a=1&&b=2`: the empty pair is dropped
      const eq = segment.indexOf(0x3d);
      const name = eq < 0 ? segment : segment.subarray(0, eq);
      const value = eq < 0 ? Buffer.alloc(0) : segment.subarray(eq + 1); // no `=`: an empty value
      pairs.push([formDecode(name), formDecode(value)]);
    }
  }
  pairs.sort((p, q) => byCodePoint(p[0], q[0]) || byCodePoint(p[1], q[1]));
  return pairs.map(([n, v]) => `${rfc3986(n)}=${rfc3986(v)}`).join('&');
}

/** METHOD \n PATH \n CANONICAL_QUERY \n TIMESTAMP \n NONCE \n hex(SM3(body)). PATH as sent, without the query. */
function canonicalString(method, path, rawQuery, timestamp, nonce, body) {
  return [method.toUpperCase(), path, canonicalQuery(rawQuery), String(timestamp), nonce, sm3Hex(body)].join('\n');
}

/** The four SIG-01 headers of one request. `body` is the exact bytes you send (a Buffer; empty for a GET). */
function signedHeaders(appId, secret, method, path, rawQuery, body, timestamp, nonce) {
  const stamp = String(timestamp === undefined ? Math.floor(Date.now() / 1000) : timestamp);
  const once = nonce || crypto.randomBytes(16).toString('hex'); // 32 chars of [0-9a-f]
  return {
    'X-Yzw-App-Id': appId,
    'X-Yzw-Timestamp': stamp,
    'X-Yzw-Nonce': once,
    'X-Yzw-Signature': hmacSm3Hex(secret, canonicalString(method, path, rawQuery, stamp, once, body)),
  };
}

// ---------------------------------------------------------------------------------------------- SIG-02

const TIMESTAMP_WINDOW = 300; // seconds either way
const NONCE_WINDOW = 600; // seconds a nonce is remembered per app

/** Nonces seen per app in the last 600 s. One process only: replicas must share this (e.g. Redis SET NX EX 600). */
class NonceMemory {
  constructor() {
    this.seen = new Map();
  }

  /** True and remembered when fresh; false when this app used the nonce in the last 600 s (a replay). */
  claim(appId, nonce, now) {
    const key = `${appId}\u0000${nonce}`;
    const at = this.seen.get(key);
    if (at !== undefined && now - at <= NONCE_WINDOW) return false;
    if (this.seen.size > 100000) {
      for (const [k, t] of this.seen) if (now - t > NONCE_WINDOW) this.seen.delete(k);
    }
    this.seen.set(key, now);
    return true;
  }
}

/**
 * SIG-02: null when the request is accepted, else {code, message} to answer with 401. The checks run in the
 * norm's order: headers present, app known, header syntax, timestamp window, signature, nonce (a nonce is
 * remembered only once its signature verified). `headers` has lower-case names (as Node gives them);
 * `secretOf(appId)` returns the caller's secret or undefined; `rawQuery` is the query as received (a Buffer).
 */
function verifyRequest({ method, path, rawQuery, headers, body }, secretOf, nonces, now = Date.now() / 1000) {
  const names = ['x-yzw-app-id', 'x-yzw-timestamp', 'x-yzw-nonce', 'x-yzw-signature'];
  const [appId, stamp, nonce, signature] = names.map((n) => String(headers[n] || ''));
  const missing = names.filter((n) => !headers[n]);
  if (missing.length) return { code: 'SIGNATURE_MISSING', message: `missing signature header(s): ${missing.join(', ')}` };
  const secret = secretOf(appId);
  if (secret === undefined || secret === null) return { code: 'APP_UNKNOWN', message: `app id ${appId} is not registered` };
  if (!/^[0-9]+$/.test(stamp) || !/^[A-Za-z0-9-]{16,64}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(signature)) {
    return { code: 'SIGNATURE_INVALID', message: 'timestamp must be Unix seconds, nonce 16-64 of [A-Za-z0-9-]' };
  }
  if (Math.abs(now - Number(stamp)) > TIMESTAMP_WINDOW) {
    return { code: 'TIMESTAMP_EXPIRED', message: `timestamp ${stamp} is more than ${TIMESTAMP_WINDOW} s from now` };
  }
  const expected = hmacSm3Hex(secret, canonicalString(method, path, rawQuery, stamp, nonce, body));
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return { code: 'SIGNATURE_INVALID', message: 'signature does not match the canonical string' };
  }
  if (!nonces.claim(appId, nonce, now)) return { code: 'NONCE_REPLAYED', message: `nonce ${nonce} was used already` };
  return null;
}

// ---------------------------------------------------------------------------------------------- SSO-02

/**
 * Canonical JSON of a parsed value: keys sorted (by code point) at every level, `,` and `:` with no spaces,
 * no \u escapes beyond JSON's own (quote, backslash, control characters). The user record holds strings
 * and small integers only; other numbers would need the platform's exact number formatting.
 */
function canonicalJson(value) {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort(byCodePoint);
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(value[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}

/** The SSO-02 signed bytes: canonical JSON of `user` immediately followed by the issued_at string. */
function userRecordBytes(user, issuedAt) {
  return Buffer.from(canonicalJson(user) + issuedAt, 'utf8');
}

/**
 * True when `answer.signature` (hex r||s) is the SM2 signature (SM3 digest, user id 1234567812345678) of the
 * key `publicKeyHex` (04||x||y, from GET /idp/v1/keys, the entry whose kid is answer.kid) over the record.
 */
function verifyUserRecord(answer, publicKeyHex) {
  const signature = String(answer.signature || '');
  if (!/^[0-9a-fA-F]{128}$/.test(signature) || !/^04[0-9a-fA-F]{128}$/.test(publicKeyHex)) return false;
  if (typeof answer.user !== 'object' || answer.user === null || typeof answer.issued_at !== 'string') return false;
  const bytes = userRecordBytes(answer.user, answer.issued_at);
  return sm2.doVerifySignature(bytes, signature.toLowerCase(), publicKeyHex.toLowerCase(), {
    hash: true, // SM3 of Z || message, Z from the user id below and the public key
    der: false, // r||s, 32 bytes each
    userId: '1234567812345678',
  });
}

// ---------------------------------------------------------------------------------------------- HTTP

/** One signed call (SIG-01, and a bearer token when given); resolves {status, body}. */
function signedCall(baseUrl, appId, secret, method, pathAndQuery, { body = Buffer.alloc(0), contentType, token } = {}) {
  const url = new URL(baseUrl); // http or https, with or without a path prefix
  const sent = url.pathname.replace(/\/+$/, '') + pathAndQuery; // the path is signed exactly as sent
  const [path, rawQuery = ''] = splitOnce(sent, '?');
  const headers = signedHeaders(appId, secret, method, path, rawQuery, body);
  if (contentType) headers['Content-Type'] = contentType;
  if (token) headers.Authorization = `Bearer ${token}`;
  headers['Content-Length'] = String(body.length);
  headers.Accept = 'application/json';
  return new Promise((resolve, reject) => {
    // the path is sent exactly as signed: do not let a URL library re-encode the query
    const client = url.protocol === 'https:' ? https : http;
    const options = { host: url.hostname, port: url.port || undefined, method, path: sent, headers };
    const request = client.request(options, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

function splitOnce(text, sep) {
  const at = text.indexOf(sep);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/** SIG-03: a client-credentials token for the scopes asked (reuse it until it expires, SIG-04). */
async function obtainToken(provinceUrl, appId, secret, scope) {
  const form = Buffer.from(new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(), 'utf8');
  const answer = await signedCall(provinceUrl, appId, secret, 'POST', '/idp/v1/oauth/token', {
    body: form,
    contentType: 'application/x-www-form-urlencoded',
  });
  if (answer.status !== 200) throw new Error(`token request answered ${answer.status}: ${answer.body}`);
  return JSON.parse(answer.body).access_token;
}

// ---------------------------------------------------------------------------------------------- CLI

const VECTOR = {
  secret: 'yzw-demo-secret-0123456789abcdef',
  method: 'POST',
  path: '/yzw/v1/applications',
  rawQuery: 'page=2&dept_uscc=11330106002500287C&name=%E8%A5%BF%E6%B9%96+%E5%8C%BA',
  timestamp: '1795829400',
  nonce: '0f3c2a9e6d1b4c8e',
  body: '{"application_no":"33010612026112700000421"}',
  canonicalQuery: 'dept_uscc=11330106002500287C&name=%E8%A5%BF%E6%B9%96%20%E5%8C%BA&page=2',
  bodySm3: 'd475e8e5cbf60a0cae1ac5402f47f5c0e9e932275444b19a2b54eaf16fc7c22d',
  signature: '14fafbfd8c55ca06deb3a1c76dfe41dba6633bf55d2012eaef3f3b8073503425',
  emptySm3: '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b',
};

function vector() {
  const v = VECTOR;
  const body = Buffer.from(v.body, 'utf8');
  const got = {
    canonicalQuery: canonicalQuery(v.rawQuery),
    bodySm3: sm3Hex(body),
    emptySm3: sm3Hex(Buffer.alloc(0)),
    signature: signedHeaders('any', v.secret, v.method, v.path, v.rawQuery, body, v.timestamp, v.nonce)['X-Yzw-Signature'],
  };
  let ok = true;
  for (const [name, value] of Object.entries(got)) {
    const same = value === v[name];
    ok = ok && same;
    console.log(`${name} ${value} ${same ? 'OK' : 'MISMATCH, the norm says ' + v[name]}`);
  }
  return ok ? 0 : 1;
}

async function call(provinceUrl, appId, secret, pathAndQuery) {
  const token = await obtainToken(provinceUrl, appId, secret, 'catalog:read');
  const answer = await signedCall(provinceUrl, appId, secret, 'GET', pathAndQuery, { token });
  console.log(`${answer.status} ${answer.body}`);
  return answer.status === 200 ? 0 : 1;
}

async function sso(provinceUrl, appId, secret, ticket) {
  const token = await obtainToken(provinceUrl, appId, secret, 'idp:ticket');
  const body = Buffer.from(JSON.stringify({ ticket, app_id: appId }), 'utf8');
  const validated = await signedCall(provinceUrl, appId, secret, 'POST', '/idp/v1/tickets/validate', {
    body,
    contentType: 'application/json',
    token,
  });
  if (validated.status !== 200) {
    console.log(`refused: validate answered ${validated.status} ${validated.body}`);
    return 1;
  }
  const answer = JSON.parse(validated.body);
  const keys = await signedCall(provinceUrl, appId, secret, 'GET', '/idp/v1/keys'); // unsigned is fine too
  const key = JSON.parse(keys.body).keys.find((k) => k.kid === answer.kid && k.alg === 'SM2');
  return reportUser(answer, key ? key.public_key : '');
}

function reportUser(answer, publicKeyHex, label = '') {
  if (!verifyUserRecord(answer, publicKeyHex)) {
    console.log(`${label}INVALID: the SM2 signature does not verify; refuse the login (SSO-02)`);
    return 1;
  }
  console.log(`${label}valid ${canonicalJson(answer.user)}`);
  return 0;
}

function serve(port, platformAppId, platformSecret) {
  const nonces = new NonceMemory();
  const secretOf = (appId) => (appId === platformAppId ? platformSecret : undefined);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const [path, rawQuery = ''] = splitOnce(req.url, '?');
      const request = { method: req.method, path, rawQuery: Buffer.from(rawQuery, 'latin1'), headers: req.headers,
        body: Buffer.concat(chunks) };
      const rejection = verifyRequest(request, secretOf, nonces);
      const [status, answer] = rejection ? [401, { ...rejection, details: [] }] : [200, {}];
      console.log(`${rejection ? 'rejected ' + rejection.code : 'accepted'} ${req.method} ${req.url}`);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  server.listen(Number(port), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

async function main(argv) {
  const [mode, ...args] = argv;
  if (mode === 'vector' && args.length === 0) return vector();
  if (mode === 'call' && args.length === 4) return call(...args);
  if (mode === 'sso' && args.length === 4) return sso(...args);
  if (mode === 'verify-user' && args.length >= 2) {
    // every file must verify (exit 0); one line per file
    const codes = args.slice(1).map((file) => reportUser(JSON.parse(fs.readFileSync(file, 'utf8')), args[0], `${file}: `));
    return Math.max(...codes);
  }
  if (mode === 'serve' && args.length === 3) return serve(...args);
  if (mode === 'canonical-query') {
    for (const raw of args) console.log(canonicalQuery(raw));
    return 0;
  }
  console.error('usage: node yzw-signing.js vector | call URL APP_ID SECRET PATH | sso URL APP_ID SECRET TICKET'
    + ' | verify-user PUBLIC_KEY_HEX ANSWER.json... | serve PORT PLATFORM_APP_ID PLATFORM_SECRET'
    + ' | canonical-query RAW_QUERY...');
  return 2;
}

module.exports = {
  sm3Hex, hmacSm3Hex, canonicalQuery, canonicalString, signedHeaders, NonceMemory, verifyRequest,
  canonicalJson, userRecordBytes, verifyUserRecord, signedCall, obtainToken,
};

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { if (code !== undefined) process.exitCode = code; },
    (err) => { console.error(`error: ${err.message}`); process.exitCode = 2; },
  );
}
