// A certified OpenID Connect provider (panva's oidc-provider) on loopback, for BMMS's
// single sign-on tests. One client, "bmms", with the redirect URIs given (separated by
// commas); an account for
// whatever login is typed on the provider's development sign-in page, with that login as
// its subject and preferred_username. Prints "ready <issuer>" once it listens.
//
//   node oidc/provider.mjs <port> <redirect URI>[,<redirect URI>…]
import Provider from "oidc-provider";

const [port, redirectUris] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: "bmms",
    client_secret: "bmms-test-secret",
    redirect_uris: redirectUris.split(","),
    response_types: ["code"],
    grant_types: ["authorization_code"],
  }],
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id }),
  }),
  claims: { openid: ["sub"], profile: ["preferred_username"] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["a test cookie key of the provider"] },
});
// Quiet: the test reads what it needs from the pages.
provider.on("server_error", (_ctx, error) => console.error(error));
provider.listen(Number(port), "127.0.0.1", () => console.log(`ready ${issuer}`));
