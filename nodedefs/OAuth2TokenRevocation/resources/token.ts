// OAuth2 Token Revocation → Token: an OAuth 2.0 access or refresh token.
import type { INodeProperties } from 'n8n-workflow';

import { operation } from '../../shared/sidecar';

export const tokenOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'revoke',
	displayOptions: { show: { resource: ['token'] } },
	options: [
		operation(
			{
				name: 'Revoke',
				value: 'revoke',
				action: 'Revoke a token',
				description: 'Revoke an access or refresh token at the authorization server',
			},
			'oauth.revokeToken',
		),
	],
};

const showForRevoke = { resource: ['token'], operation: ['revoke'] };

export const tokenFields: INodeProperties[] = [
	{
		displayName: 'Token',
		name: 'token',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		required: true,
		displayOptions: { show: showForRevoke },
		description: 'The access or refresh token to revoke, usually mapped from an earlier step',
		hint: 'Servers answer success for unknown tokens too, so a typo is not reported',
		routing: {
			send: { type: 'body', property: 'input.token' },
		},
	},
	{
		displayName: 'Token Type',
		name: 'tokenTypeHint',
		type: 'options',
		default: '',
		displayOptions: { show: showForRevoke },
		options: [
			{
				name: 'Unknown',
				value: '',
				description: 'Let the server find out',
			},
			{ name: 'Access Token', value: 'access_token' },
			{
				name: 'Refresh Token',
				value: 'refresh_token',
				description: 'Revoking it also ends its access tokens on most servers',
			},
		],
		description: "What kind of token it is, as a hint that speeds up the server's lookup",
		routing: {
			send: {
				type: 'body',
				property: 'input.tokenTypeHint',
				value: '={{ $value || undefined }}',
			},
		},
	},
	{
		displayName: 'Dry Run',
		name: 'dryRun',
		type: 'boolean',
		default: false,
		displayOptions: { show: showForRevoke },
		description:
			"Whether to revoke nothing and only check the token: GitHub's token check, Slack's test mode, introspection where the server has it. Where it has none the answer says the server cannot tell.",
		routing: {
			send: { type: 'body', property: 'input.dryRun' },
		},
	},
];
