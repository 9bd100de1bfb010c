import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

import { oauthConnection } from '../nodedefs/shared/connections';
import { connectionTest, detailsOnly, sidecarAuthenticate, sidecarFields, tlsFields } from '../nodedefs/shared/sidecar';

export class TokenwardenOAuthRevocationApi implements ICredentialType {
	name = 'tokenwardenOAuthRevocationApi';

	displayName = 'OAuth Revocation Client API';

	documentationUrl = 'https://github.com/tokenwarden/tokenwarden/blob/main/docs/n8n.md';

	icon = { light: 'file:../nodedefs/OAuth2TokenRevocation/oauth.svg', dark: 'file:../nodedefs/OAuth2TokenRevocation/oauth.dark.svg' } as const;

	properties: INodeProperties[] = [
		...sidecarFields,
		{
			displayName: 'Dialect',
			name: 'dialect',
			type: 'options',
			default: 'rfc7009',
			options: [
				{
					name: 'RFC 7009',
					value: 'rfc7009',
					description: 'Standard OAuth 2.0 token revocation (form-encoded)',
				},
				{
					name: 'Technology Nexus',
					value: 'nexus',
					description: 'Nexus /api/rest/v3.0/oauth/revoke with a JSON body',
				},
			],
			description: 'Which kind of server revokes the tokens',
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Revocation URL',
			name: 'revocationUrl',
			type: 'string',
			default: '',
			placeholder: 'https://auth.example.com/oauth2/revoke',
			description: 'Full address of the revocation endpoint. Leave empty to find it from the issuer (RFC 7009) or the base URL (Nexus).',
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Issuer',
			name: 'issuer',
			type: 'string',
			default: '',
			placeholder: 'https://auth.example.com',
			displayOptions: {
				show: { connectionMode: ['details'], dialect: ['rfc7009'] },
			},
			description: 'Issuer whose discovery document names the revocation endpoint; used when Revocation URL is empty',
		},
		{
			displayName: 'Nexus API Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://nexus.example.com',
			displayOptions: {
				show: { connectionMode: ['details'], dialect: ['nexus'] },
			},
			description: 'Base address of the Nexus server; /api/rest/v3.0/oauth/revoke is added. Used when Revocation URL is empty.',
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Client Authentication',
			name: 'clientAuthMethod',
			type: 'options',
			default: 'client_secret_basic',
			options: [
				{ name: 'Basic Auth Header', value: 'client_secret_basic' },
				{ name: 'In the Request Body', value: 'client_secret_post' },
				{ name: 'None (Public Client)', value: 'none' },
				{ name: 'Client Certificate', value: 'tls_client_auth' },
			],
			description: 'How the client proves who it is to the server',
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: {
				show: {
					connectionMode: ['details'],
					clientAuthMethod: ['client_secret_basic', 'client_secret_post'],
				},
			},
		},
		{
			displayName: 'Send Basic Credentials Unencoded',
			name: 'basicWithoutFormEncoding',
			type: 'boolean',
			default: false,
			displayOptions: {
				show: {
					connectionMode: ['details'],
					clientAuthMethod: ['client_secret_basic'],
				},
			},
			description: 'Whether to skip the form-encoding of client ID and secret that OAuth requires in the Basic header. Turn on only for servers that reject secrets with special characters.',
		},

		...tlsFields,
	];

	authenticate: IAuthenticateGeneric = sidecarAuthenticate;

	test: ICredentialTestRequest = connectionTest('oauth', oauthConnection);
}
