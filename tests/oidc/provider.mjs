// A local OpenID Provider for the OpenID Connect sign-in tests.
//
// The provider is the real, OpenID-certified `oidc-provider` package,
// unmodified: discovery, authorization, PKCE, the token endpoint, JWKS and
// ID token signing are all its own. This file only configures it (one static
// client, three acr values, a table of accounts), adds a minimal login page
// and puts an HTTP proxy in front of it. The proxy's URL is the issuer; every
// request goes through it, and it alone alters answers (the token
// endpoint's `id_token`, the JWKS) when a test switches it to a negative
// mode, so the relying party can be shown to reject each kind of bad token.
//
//   node tests/oidc/provider.mjs
//
// prints one line of JSON on stdout when ready,
//   {"issuer":"http://127.0.0.1:PORT","control":"http://127.0.0.1:PORT/__proxy"}
// logs everything else on stderr, and exits when stdin closes or on SIGTERM.
// Control: POST /__proxy/mode (body `mode=NAME`) or GET /__proxy/mode?set=NAME;
// GET /__proxy/last-id-token. See MODES below.

import http from 'node:http';
import { once } from 'node:events';

// oidc-provider prints notices with console.info: keep stdout for the ready line.
console.log = console.info = (...args) => console.error(...args);

const { default: Provider, interactionPolicy } = await import('oidc-provider');
const jose = await import('jose');

const ACR = [
  'http://id.elegnamnden.se/loa/1.0/loa2',
  'http://id.elegnamnden.se/loa/1.0/loa3',
  'http://id.elegnamnden.se/loa/1.0/loa4',
];
const NAMES = {
  anna: ['Anna', 'Andersson'],
  bertil: ['Bertil', 'Berg'],
  cecilia: ['Cecilia', 'Carlsson'],
  mallory: ['Mallory', 'Mört'],
};
const CALLBACK = /^http:\/\/(127\.0\.0\.1|localhost):[0-9]{1,5}\/login\/oidc\/callback$/;

// Two listening sockets first: the issuer is the proxy's URL.
const listen = async (server) => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
};
const inner = http.createServer();
const proxy = http.createServer();
const innerPort = await listen(inner);
const issuer = `http://127.0.0.1:${await listen(proxy)}`;

const signingKey = async (kid) => {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
};
const providerJwk = await signingKey('provider-key'); // the provider's own
const proxyPrivate = await signingKey('proxy-key'); // the proxy's, for re-signing
const proxySigner = await jose.importJWK(proxyPrivate, 'RS256');
const { d, p, q, dp, dq, qi, ...proxyJwk } = proxyPrivate; // its public half
const publicHalf = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub;
// Key rotation: a key the JWKS publishes only from the moment mode `rotate`
// is first set (a relying party that cached the keys before must fetch them
// again), and one it never publishes.
const rotatedPrivate = await signingKey('rotated-key');
const rotatedSigner = await jose.importJWK(rotatedPrivate, 'RS256');
const strangerSigner = await jose.importJWK(await signingKey('stranger-key'), 'RS256');
let rotated = false;

// Every authorization request shows the login page (no silent single
// sign-on from an earlier test step): login is prompted on the first pass and
// satisfied on resume by the form's answer.
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check('always', 'a fresh login every time',
  (ctx) => (ctx.oidc.route.endsWith('resume') && ctx.oidc.result?.login
    ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT)));

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'sustrack',
    client_secret: 'sustrack-test-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1:45678/login/oidc/callback', 'http://localhost:45678/login/oidc/callback'],
    scope: 'openid profile',
  }],
  jwks: { keys: [providerJwk] },
  // Plain http on 127.0.0.1: no Secure flag, and not SameSite=None (8.x's
  // default for the session cookie, which Chromium drops without Secure).
  cookies: {
    keys: ['sustrack-oidc-test-cookie-key'],
    long: { httpOnly: true, sameSite: 'lax', secure: false },
    short: { httpOnly: true, sameSite: 'lax', secure: false },
  },
  acrValues: ACR,
  // acr and amr ride on scope openid, so the ID token always has them (not
  // only when acr_values or the claims parameter asks); conformIdTokenClaims
  // false puts the profile claims in the ID token itself, not just userinfo.
  claims: { acr: null, amr: null, auth_time: null, sid: null, openid: ['sub', 'acr', 'amr'], profile: ['name', 'given_name', 'family_name'] },
  conformIdTokenClaims: false,
  scopes: ['openid', 'profile'],
  features: { devInteractions: { enabled: false } },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { methods: ['S256'], required: () => true },
  ttl: { IdToken: 600 },
  async findAccount(ctx, sub) {
    const [given, family] = NAMES[sub] ?? [sub.charAt(0).toUpperCase() + sub.slice(1), undefined];
    return {
      accountId: sub,
      // `utan-namn` is an account whose provider releases no name at all.
      claims: async () => (sub === 'utan-namn' ? { sub }
        : { sub, name: family ? `${given} ${family}` : given, given_name: given, family_name: family }),
    };
  },
});

// The test server listens on a random port: any loopback port, exact path.
const redirectUriAllowed = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function allowed(uri) {
  return (this.clientId === 'sustrack' && CALLBACK.test(uri)) || redirectUriAllowed.call(this, uri);
};
provider.on('server_error', (ctx, err) => console.error('server_error', err));

// ---- The login page: one form, login + consent at once -------------------
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (uid, error) => `<!DOCTYPE html>
<html lang="sv">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Logga in – test-OP</title></head>
<body>
<main>
<h1>Logga in</h1>
${error ? `<p role="alert">${esc(error)}</p>\n` : ''}<form method="post" action="/interaction/${esc(uid)}">
<p><label for="login">Användarnamn</label> <input id="login" name="login" type="text" autocomplete="username" required></p>
<p><label for="acr">Tillitsnivå</label> <select id="acr" name="acr">
${ACR.map((a) => `<option value="${esc(a)}"${a.endsWith('loa3') ? ' selected' : ''}>${esc(a)}</option>`).join('\n')}
</select></p>
<p><button type="submit">Logga in</button></p>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
<p><button type="submit">Avbryt</button></p>
</form>
</main>
</body>
</html>
`;
const send = (res, status, body, type = 'text/html; charset=utf-8') => {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};
const readBody = async (req) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
};

async function interaction(req, res, uid, abort) {
  const details = await provider.interactionDetails(req, res); // throws without the cookie
  if (details.uid !== uid) return send(res, 400, 'interaction mismatch\n', 'text/plain; charset=utf-8');
  if (req.method === 'GET' && !abort) return send(res, 200, page(uid));
  if (req.method !== 'POST') return send(res, 405, 'method not allowed\n', 'text/plain; charset=utf-8');
  const form = new URLSearchParams(await readBody(req));
  if (abort) {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'avbrutet av användaren' }, { mergeWithLastSubmission: false });
  }
  const login = (form.get('login') ?? '').trim();
  const acr = form.get('acr') ?? ACR[1];
  if (!login) return send(res, 400, page(uid, 'Ange ett användarnamn.'));
  if (!ACR.includes(acr)) return send(res, 400, page(uid, 'Okänd tillitsnivå.'));
  const { params } = details;
  const sameAccount = details.session?.accountId === login;
  if (details.session && !sameAccount) {
    // Someone else than the provider session's user: end that session here,
    // rather than oidc-provider's logout-confirmation page (which needs JS).
    await (await provider.Session.findByUid(details.session.uid))?.destroy();
    delete details.session;
    await details.save(details.exp - Math.floor(Date.now() / 1000));
  }
  const grant = (sameAccount && details.grantId && await provider.Grant.find(details.grantId))
    || new provider.Grant({ accountId: login, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope ?? 'openid'));
  if (params.claims) {
    const claims = JSON.parse(params.claims);
    for (const use of ['id_token', 'userinfo']) if (claims[use]) grant.addOIDCClaims(Object.keys(claims[use]));
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, {
    login: { accountId: login, acr, amr: ['pwd'] },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
inner.on('request', (req, res) => {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/abort)?$/.exec(new URL(req.url, issuer).pathname);
  if (!m) return callback(req, res);
  return interaction(req, res, m[1], !!m[2]).catch((err) => {
    console.error('interaction:', err);
    if (!res.headersSent) send(res, 400, `${err.name}: ${err.message}\n`, 'text/plain; charset=utf-8');
  });
});

// ---- The proxy ------------------------------------------------------------
// MODES alter the token endpoint's id_token (down/hang: every request).
const now = () => Math.floor(Date.now() / 1000);
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const resign = (claims) => new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'proxy-key' }).sign(proxySigner);
const MODES = {
  pass: null,
  tamper: async (jwt, claims) => { // one character of the payload, signature kept
    const [h, , s] = jwt.split('.');
    const name = claims.name ?? claims.sub;
    const changed = (name[0] === 'X' ? 'Y' : 'X') + name.slice(1);
    return `${h}.${b64({ ...claims, [claims.name ? 'name' : 'sub']: changed })}.${s}`;
  },
  expired: (jwt, c) => resign({ ...c, iat: now() - 1200, exp: now() - 600 }),
  aud: (jwt, c) => resign({ ...c, aud: 'another-client', azp: 'another-client' }),
  nonce: (jwt, c) => resign({ ...c, nonce: 'not-the-nonce-you-sent' }),
  iss: (jwt, c) => resign({ ...c, iss: 'http://127.0.0.1:1/other-issuer' }),
  // An authentication an hour old (a broker's single sign-on session): what
  // a shared computer gives the next person if the request's prompt=login
  // was taken out.
  stale_auth: (jwt, c) => resign({ ...c, auth_time: now() - 3600 }),
  replay: (jwt) => lastIdToken ?? jwt, // the earlier genuine one: valid signature, old nonce
  alg_none: (jwt, c) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(c)}.`,
  resign: (jwt, c) => resign(c), // positive control: the proxy key is trusted
  rotate: (jwt, c) => new jose.SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: 'rotated-key' }).sign(rotatedSigner),
  unknown_key: (jwt, c) => new jose.SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: 'stranger-key' }).sign(strangerSigner),
  down: null,
  hang: null,
};
let mode = 'pass';
let lastIdToken = null; // the last genuine ID token passed through (replay uses it)
const hung = new Set();

function control(req, res, url) {
  const ok = (body) => send(res, 200, body, 'text/plain; charset=utf-8');
  if (url.pathname === '/__proxy/last-id-token' && req.method === 'GET') {
    return lastIdToken ? ok(lastIdToken) : send(res, 404, 'none yet\n', 'text/plain; charset=utf-8');
  }
  if (url.pathname !== '/__proxy/mode') return send(res, 404, 'not found\n', 'text/plain; charset=utf-8');
  const set = (name) => {
    if (!Object.hasOwn(MODES, name)) return send(res, 400, `unknown mode ${JSON.stringify(name)}\n`, 'text/plain; charset=utf-8');
    mode = name;
    if (mode === 'rotate') rotated = true;
    if (mode !== 'hang') for (const s of hung) s.destroy();
    console.error(`proxy mode: ${mode}`);
    return ok('ok');
  };
  if (req.method === 'GET') return url.searchParams.has('set') ? set(url.searchParams.get('set')) : ok(mode);
  if (req.method !== 'POST') return send(res, 405, 'method not allowed\n', 'text/plain; charset=utf-8');
  return readBody(req).then((body) => set(new URLSearchParams(body.trim()).get('mode') ?? body.trim()));
}

// Rewrites a buffered answer from the provider, or returns it unchanged.
async function rewrite(path, status, body) {
  if (status !== 200) return body;
  if (path === '/jwks') {
    const jwks = JSON.parse(body);
    const keys = [...jwks.keys, proxyJwk];
    if (rotated) keys.push(publicHalf(rotatedPrivate));
    return JSON.stringify({ keys });
  }
  const json = JSON.parse(body);
  if (typeof json.id_token !== 'string') return body;
  const genuine = json.id_token;
  const alter = MODES[mode];
  if (alter) json.id_token = await alter(genuine, jose.decodeJwt(genuine));
  lastIdToken = genuine;
  return JSON.stringify(json);
}

proxy.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/__proxy/')) return control(req, res, url);
  if (mode === 'down') return req.socket.resetAndDestroy(); // TCP RST
  if (mode === 'hang') {
    hung.add(req.socket);
    req.socket.once('close', () => hung.delete(req.socket));
    return undefined;
  }
  const headers = { ...req.headers, 'accept-encoding': 'identity' }; // Host kept as is
  const upstream = http.request({ host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers }, async (up) => {
    const buffered = ['/token', '/jwks'].includes(url.pathname);
    if (!buffered) {
      res.writeHead(up.statusCode, up.rawHeaders);
      return up.pipe(res);
    }
    try {
      const body = Buffer.from(await rewrite(url.pathname, up.statusCode, await readBody(up)));
      const out = { ...up.headers, 'content-length': body.length };
      delete out['transfer-encoding'];
      delete out.etag;
      res.writeHead(up.statusCode, out);
      return res.end(body);
    } catch (err) {
      console.error('proxy rewrite:', err);
      return send(res, 502, 'proxy rewrite failed\n', 'text/plain; charset=utf-8');
    }
  });
  upstream.on('error', (err) => {
    console.error('proxy upstream:', err.message);
    if (!res.headersSent) send(res, 502, 'bad gateway\n', 'text/plain; charset=utf-8');
    else res.destroy();
  });
  return req.pipe(upstream);
});

// ---- Ready; stop with stdin or SIGTERM -------------------------------------
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
console.error(`oidc-provider (internal 127.0.0.1:${innerPort}) behind proxy ${issuer}`);
process.stdout.write(`${JSON.stringify({ issuer, control: `${issuer}/__proxy` })}\n`);
