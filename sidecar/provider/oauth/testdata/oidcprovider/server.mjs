// Test-only: serves panva's oidc-provider (a certified OAuth 2.0 / OpenID
// Connect server library) over TLS on a random loopback port, so the Go tests
// can revoke tokens on a second, independent implementation. The Go test
// passes the TLS material and client secret in the environment and reads the
// issuer from the first line printed.
//
// /test/tokens?client_id=... is ours, not the library's: it mints an access
// and a refresh token through the library's own models, which stands in for
// a user signing in through the browser flow.
import { createServer } from 'node:https';
import { X509Certificate } from 'node:crypto';
import Provider from 'oidc-provider';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const secret = env('TW_CLIENT_SECRET');
const introspectorSecret = env('TW_INTROSPECTOR_SECRET');

const server = createServer({
  cert: env('TW_TLS_CERT'),
  key: env('TW_TLS_KEY'),
  ca: env('TW_CLIENT_CA'),
  requestCert: true,
  rejectUnauthorized: false, // clients without certificates use other methods
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `https://127.0.0.1:${server.address().port}`;

const peer = (ctx) => {
  const c = ctx.req.socket.getPeerCertificate?.(false);
  return c && c.raw ? new X509Certificate(c.raw) : undefined;
};
const webClient = { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: ['https://rp.invalid/cb'] };

const provider = new Provider(issuer, {
  clients: [
    { ...webClient, client_id: 'svc-basic', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' },
    { ...webClient, client_id: 'svc-post', client_secret: secret, token_endpoint_auth_method: 'client_secret_post' },
    { ...webClient, client_id: 'svc-public', token_endpoint_auth_method: 'none' },
    { ...webClient, client_id: 'svc-mtls', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=svc-mtls,O=Tokenwarden Test' },
    { ...webClient, client_id: 'introspector', client_secret: introspectorSecret, token_endpoint_auth_method: 'client_secret_basic' },
  ],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none', 'tls_client_auth'],
  cookies: { keys: ['test-only-cookie-key'] },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    introspection: { enabled: true },
    mTLS: {
      enabled: true,
      tlsClientAuth: true,
      getCertificate: (ctx) => peer(ctx)?.toString(),
      certificateAuthorized: (ctx) => ctx.req.socket.authorized === true,
      // RFC 4514 order: most specific first, as the registration spells it.
      certificateSubjectMatches: (ctx, property, expected) =>
        property === 'tls_client_auth_subject_dn' && peer(ctx)?.subject.split('\n').reverse().join(',') === expected,
    },
  },
  scopes: ['openid', 'offline_access'],
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
});

const callback = provider.callback();
server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname !== '/test/tokens') return callback(req, res);
  try {
    const client = await provider.Client.find(url.searchParams.get('client_id'));
    const grant = new provider.Grant({ accountId: 'alice', clientId: client.clientId });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const common = { accountId: 'alice', client, grantId, gty: 'authorization_code' };
    const access_token = await new provider.AccessToken({ ...common, scope: 'openid' }).save();
    const refresh_token = await new provider.RefreshToken({ ...common, scope: 'openid offline_access' }).save();
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ access_token, refresh_token }));
  } catch (err) {
    res.statusCode = 500;
    res.end(`${err} ${err.error_description ?? ""}`);
  }
});

console.log(JSON.stringify({ issuer }));
