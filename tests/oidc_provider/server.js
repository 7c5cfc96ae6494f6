// A real OpenID provider for the tests: the certified `oidc-provider` package, on a free
// loopback port. It prints one line `ISSUER http://127.0.0.1:<port>` when it is ready.
//
// One test client (a "native" client, so its loopback redirect URI may carry any port, as
// RFC 8252 allows), and school accounts with Entree-style claims: the institution
// (nlEduPersonHomeOrganizationId: a BRIN of 4 characters, or 6 with the location) and the
// role (eduPersonAffiliation). The sign-in page is a small form of our own (no password:
// the tests pick the account by its name). Consent is given for the one first-party client.
//
// Environment: CLIENT_ID, CLIENT_SECRET, REDIRECT_PATHS (comma-separated paths on
// http://127.0.0.1), and optionally ACCOUNTS (JSON: id -> claims) to replace the defaults.

import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const CLIENT_ID = process.env.CLIENT_ID || 'techlab-test';
const CLIENT_SECRET = process.env.CLIENT_SECRET || 'techlab-test-secret-that-is-long-enough';
const REDIRECT_PATHS = (process.env.REDIRECT_PATHS || '/inloggen/via/test/terug').split(',');

const ACCOUNTS = process.env.ACCOUNTS ? JSON.parse(process.env.ACCOUNTS) : {
  // a teacher of a school with one location (BRIN 07AB)
  'juf-anna': { email: 'anna.devries@obs-de-linde.example', email_verified: true, name: 'Anna de Vries',
    nlEduPersonHomeOrganizationId: '07AB', eduPersonAffiliation: ['employee', 'staff'] },
  // a teacher of an institution with two locations (BRIN 09XY: 09XY00 and 09XY01)
  'meester-bram': { email: 'bram.jansen@de-regenboog.example', email_verified: true, name: 'Bram Jansen',
    nlEduPersonHomeOrganizationId: '09XY', eduPersonAffiliation: 'employee' },
  // a teacher whose provider names the location (6 characters)
  'juf-carla': { email: 'carla.smit@de-regenboog.example', email_verified: true, name: 'Carla Smit',
    nlEduPersonHomeOrganizationId: '09XY01', eduPersonAffiliation: ['staff'] },
  // a pupil of the school of juf Anna
  'leerling-daan': { email: 'daan@leerling.obs-de-linde.example', email_verified: true, name: 'Daan',
    nlEduPersonHomeOrganizationId: '07AB', eduPersonAffiliation: ['student'] },
  // a teacher of a school that is in no region of the platform (BRIN 88ZZ)
  'juf-eva': { email: 'eva@buiten-de-regio.example', email_verified: true, name: 'Eva Bakker',
    nlEduPersonHomeOrganizationId: '88ZZ', eduPersonAffiliation: ['employee'] },
  // someone whose address the provider does not vouch for
  'juf-fenna': { email: 'fenna@obs-de-linde.example', email_verified: false, name: 'Fenna Mulder',
    nlEduPersonHomeOrganizationId: '07AB', eduPersonAffiliation: ['employee'] },
};

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><main><h1>${title}</h1>${body}</main></body></html>`);
}

function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      application_type: 'native',
      redirect_uris: REDIRECT_PATHS.map((p) => `http://127.0.0.1${p}`),
      // signing out at the provider (RP-initiated logout) returns to the app's home page
      post_logout_redirect_uris: ['http://127.0.0.1/'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [{ ...signingKey, kid: 'test-signing-key', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'nlEduPersonHomeOrganizationId', 'eduPersonAffiliation'],
    },
    // the scopes' claims in the ID token itself, as Entree's attributes come to the service
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const claims = ACCOUNTS[id];
      if (!claims) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
  });
  const callback = provider.callback();

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([\w-]+)(\/login)?$/);
    if (!match) {
      callback(req, res);
      return;
    }
    try {
      const interaction = await provider.interactionDetails(req, res);
      if (req.method === 'POST' && match[2]) {
        const form = await readForm(req);
        const accountId = form.get('login') || '';
        if (!ACCOUNTS[accountId]) {
          page(res, 401, 'Inloggen bij Testschool-ID', `<p role="alert">Onbekende gebruiker.</p>`);
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
        return;
      }
      if (interaction.prompt.name === 'login') {
        page(res, 200, 'Inloggen bij Testschool-ID',
          `<form method="post" action="/interaction/${escape(interaction.uid)}/login">`
          + '<label for="login">Gebruikersnaam</label> <input id="login" name="login" autocomplete="username">'
          + ' <button type="submit" id="sign-in">Inloggen</button></form>');
        return;
      }
      // consent: the one client is first-party, so what it asks is granted
      const { prompt: { details }, params, session: { accountId } } = interaction;
      const grant = interaction.grantId ? await provider.Grant.find(interaction.grantId)
        : new provider.Grant({ accountId, clientId: params.client_id });
      if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
      if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(details.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      page(res, 400, 'Fout', `<p>${escape(err.message)}</p>`);
    }
  });
  process.stdout.write(`ISSUER ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
