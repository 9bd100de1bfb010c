// OAuth2 Token Revocation → Token: an OAuth 2.0 access or refresh token.
import type { INodeProperties } from 'n8n-workflow';

import { dryRunField, verifyField } from '../../shared/lifecycle';
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
				name: 'Introspect',
				value: 'introspect',
				action: 'Introspect a token',
				description: 'Ask the authorization server whether a token is still active (RFC 7662)',
			},
			'oauth.introspectToken',
		),
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
const showForIntrospect = { resource: ['token'], operation: ['introspect'] };
const showForBoth = { resource: ['token'], operation: ['revoke', 'introspect'] };

/** The token field of one operation: a secret, so never shown or echoed back. */
function tokenField(show: typeof showForRevoke, description: string, hint?: string): INodeProperties {
	return {
		displayName: 'Token',
		name: 'token',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		required: true,
		displayOptions: { show },
		description,
		...(hint ? { hint } : {}),
		routing: {
			send: { type: 'body', property: 'input.token' },
		},
	};
}

export const tokenFields: INodeProperties[] = [
	tokenField(
		showForRevoke,
		'The access or refresh token to revoke, usually mapped from an earlier step',
		'Servers answer success for unknown tokens too, so a typo is not reported: use Verify to be sure',
	),
	tokenField(
		showForIntrospect,
		'The access or refresh token to look at, usually mapped from an earlier step. The item names it only by fingerprint.',
	),
	{
		displayName: 'Token Type',
		name: 'tokenTypeHint',
		type: 'options',
		default: '',
		displayOptions: { show: showForBoth },
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
	dryRunField(
		showForRevoke,
		"Whether to revoke nothing and only check the token: GitHub's token check, Slack's test mode, and on other servers introspection (RFC 7662) where the server publishes an introspection endpoint or one is given below. The item says whether a revocation would end an active token; where the server has no such check it says the server cannot tell.",
	),
	verifyField(
		showForRevoke,
		'Whether to introspect the token (RFC 7662) after revoking it, to prove the revocation took: verified is true when the server calls the token no longer active. A token it still calls active stops the node with the error revocation-unverified. Servers without introspection (GitHub, Slack, Nexus) answer verification unverifiable.',
	),
	{
		displayName: 'Introspection URL',
		name: 'introspectionUrl',
		type: 'string',
		default: '',
		placeholder: 'https://auth.example.com/oauth2/introspect',
		displayOptions: { show: showForBoth },
		description:
			"Full URL of the server's introspection endpoint (RFC 7662). Leave empty to use the one the issuer publishes in its metadata. Revoke uses it only for Dry Run and Verify. The client signs in there as it does for revocation.",
		routing: {
			send: { type: 'body', property: 'input.introspectionUrl', value: '={{ $value || undefined }}' },
		},
	},
];
