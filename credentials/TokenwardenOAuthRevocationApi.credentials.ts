import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

import { oauthConnection } from '../nodedefs/shared/connections';
import { connectionTest, detailsOnly, sidecarAuthenticate, sidecarFields, tlsFields } from '../nodedefs/shared/sidecar';

/** Shown in details mode when each named field has one of the values. */
const details = (show: Record<string, string[]>) => ({ show: { connectionMode: ['details'], ...show } });

// The presets whose client authentication can be chosen; the others have
// one fixed by their server (google, salesforce, slack none; github Basic).
const withClientAuth = ['rfc7009', 'nexus', 'okta', 'auth0', 'keycloak'];

const basicAuth = { name: 'Basic Auth Header', value: 'client_secret_basic' };
const postAuth = { name: 'In the Request Body', value: 'client_secret_post' };
const noAuth = { name: 'None (Public Client)', value: 'none' };
const certAuth = { name: 'Client Certificate', value: 'tls_client_auth' };

/** The Client Authentication field as one preset's server allows it. */
function clientAuth(presets: string[], preferred: string, methods: Array<{ name: string; value: string }>): INodeProperties {
	return {
		displayName: 'Client Authentication',
		name: 'clientAuthMethod',
		type: 'options',
		default: preferred,
		options: methods,
		description: 'How the client proves who it is to the server',
		displayOptions: details({ dialect: presets }),
	};
}

export class TokenwardenOAuthRevocationApi implements ICredentialType {
	name = 'tokenwardenOAuthRevocationApi';

	displayName = 'OAuth Revocation Client API';

	documentationUrl = 'https://github.com/tokenwarden/tokenwarden/blob/main/docs/n8n.md';

	icon = { light: 'file:../nodedefs/OAuth2TokenRevocation/oauth.svg', dark: 'file:../nodedefs/OAuth2TokenRevocation/oauth.dark.svg' } as const;

	properties: INodeProperties[] = [
		...sidecarFields,
		{
			// Named dialect, as before presets: saved credentials keep their
			// choice (rfc7009 and nexus are presets of the same names).
			displayName: 'Preset',
			name: 'dialect',
			type: 'options',
			default: 'rfc7009',
			options: [
				{ name: 'Auth0', value: 'auth0', description: 'POST {domain}/oauth/revoke; refresh tokens only' },
				{ name: 'GitHub', value: 'github', description: "An OAuth or GitHub App's user token (DELETE /applications/{client_id}/token)" },
				{ name: 'Google', value: 'google', description: 'oauth2.googleapis.com/revoke; needs no client' },
				{ name: 'Keycloak', value: 'keycloak', description: '{URL}/realms/{realm}/protocol/openid-connect/revoke' },
				{ name: 'Okta', value: 'okta', description: '{domain}/oauth2[/{authorization server}]/v1/revoke' },
				{ name: 'RFC 7009', value: 'rfc7009', description: 'Any standard OAuth 2.0 revocation endpoint (form-encoded)' },
				{ name: 'Salesforce', value: 'salesforce', description: '{My Domain}/services/oauth2/revoke; needs no client' },
				{ name: 'Slack', value: 'slack', description: 'auth.revoke: the token revokes itself; needs no client' },
				{ name: 'Technology Nexus', value: 'nexus', description: 'Nexus /api/rest/v3.0/oauth/revoke with a JSON body' },
			],
			description: 'Which kind of server revokes the tokens; each shows only the fields it needs',
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Revocation URL',
			name: 'revocationUrl',
			type: 'string',
			default: '',
			placeholder: 'https://auth.example.com/oauth2/revoke',
			description: 'Full address of the revocation endpoint. Leave empty to find it from the issuer (RFC 7009) or the base URL (Nexus).',
			displayOptions: details({ dialect: ['rfc7009', 'nexus'] }),
		},
		{
			displayName: 'Issuer',
			name: 'issuer',
			type: 'string',
			default: '',
			placeholder: 'https://auth.example.com',
			displayOptions: details({ dialect: ['rfc7009'] }),
			description: 'Issuer whose discovery document names the revocation endpoint; used when Revocation URL is empty',
		},
		{
			displayName: 'Nexus API Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://nexus.example.com',
			displayOptions: details({ dialect: ['nexus'] }),
			description: 'Base address of the Nexus server; /api/rest/v3.0/oauth/revoke is added. Used when Revocation URL is empty.',
		},
		{
			displayName: 'Keycloak URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://sso.example.com',
			displayOptions: details({ dialect: ['keycloak'] }),
			description: 'Address of the Keycloak server, with /auth for Keycloak before version 17 (https://sso.example.com/auth)',
		},
		{
			displayName: 'GitHub API URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://github.example.com/api/v3',
			displayOptions: details({ dialect: ['github'] }),
			description: 'Only for GitHub Enterprise Server: its API root. Leave empty for github.com.',
		},
		{
			displayName: 'Slack API URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://slack.com/api',
			displayOptions: details({ dialect: ['slack'] }),
			description: 'Leave empty for slack.com; only for a Slack Web API at another address',
		},
		{
			displayName: 'Okta Domain',
			name: 'domain',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'example.okta.com',
			displayOptions: details({ dialect: ['okta'] }),
			description: 'Your Okta domain, a host name without https://',
		},
		{
			displayName: 'Authorization Server ID',
			name: 'authorizationServerId',
			type: 'string',
			default: '',
			placeholder: 'default',
			displayOptions: details({ dialect: ['okta'] }),
			description: 'The custom authorization server that issued the tokens; leave empty for the org authorization server',
		},
		{
			displayName: 'Auth0 Domain',
			name: 'domain',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'example.us.auth0.com',
			displayOptions: details({ dialect: ['auth0'] }),
			description: "The tenant's domain or its custom domain, a host name without https://",
		},
		{
			displayName: 'My Domain',
			name: 'domain',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'example.my.salesforce.com',
			displayOptions: details({ dialect: ['salesforce'] }),
			description: 'Your Salesforce My Domain host, without https:// (sandbox: example--dev.sandbox.my.salesforce.com)',
		},
		{
			displayName: 'Realm',
			name: 'realm',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'master',
			displayOptions: details({ dialect: ['keycloak'] }),
			description: 'The realm that issued the tokens',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			displayOptions: details({ dialect: [...withClientAuth, 'github'] }),
			description: "The OAuth client's ID (GitHub: the app's client ID); a server lets a client revoke only its own tokens",
		},
		clientAuth(['rfc7009', 'keycloak'], 'client_secret_basic', [basicAuth, postAuth, noAuth, certAuth]),
		clientAuth(['nexus'], 'client_secret_basic', [basicAuth, postAuth, certAuth]),
		clientAuth(['okta'], 'client_secret_basic', [basicAuth, postAuth, noAuth]),
		clientAuth(['auth0'], 'client_secret_post', [postAuth, basicAuth, noAuth]),
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: details({ dialect: withClientAuth, clientAuthMethod: ['client_secret_basic', 'client_secret_post'] }),
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: details({ dialect: ['github'] }),
		},
		{
			displayName: 'Send Basic Credentials Unencoded',
			name: 'basicWithoutFormEncoding',
			type: 'boolean',
			default: false,
			displayOptions: details({ dialect: withClientAuth, clientAuthMethod: ['client_secret_basic'] }),
			description: 'Whether to skip the form-encoding of client ID and secret that OAuth requires in the Basic header. Turn on only for servers that reject secrets with special characters.',
		},

		...tlsFields,
	];

	authenticate: IAuthenticateGeneric = sidecarAuthenticate;

	test: ICredentialTestRequest = connectionTest('oauth', oauthConnection);
}
