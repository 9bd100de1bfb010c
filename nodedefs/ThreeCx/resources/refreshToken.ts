// 3CX → Refresh Token: the refresh tokens of the integration's own account
// (MyTokens). List takes the fields in list.ts; Revoke ends one of them.
import type { INodeProperties } from 'n8n-workflow';

import { dryRunField, verifyField } from '../../shared/lifecycle';
import { operation } from '../../shared/sidecar';
import { idPicker, verifyRevocation } from './idPicker';

export const refreshTokenOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'list',
	displayOptions: { show: { resource: ['refreshToken'] } },
	options: [
		operation(
			{
				name: 'List',
				value: 'list',
				action: 'List refresh tokens',
				description: "List the refresh tokens of the integration's own account",
			},
			'threecx.listRefreshTokens',
		),
		operation(
			{
				name: 'Revoke',
				value: 'revoke',
				action: 'Revoke a refresh token',
				description: "Revoke one of the integration's own refresh tokens; its sessions stop working",
			},
			'threecx.revokeRefreshToken',
		),
	],
};

const showForRevoke = { resource: ['refreshToken'], operation: ['revoke'] };

// A new operation in every version: nothing saved uses it, so its ID is a
// picker from the start.
export const refreshTokenFields: INodeProperties[] = [
	idPicker({
		displayName: 'Refresh Token',
		description: "The integration's own refresh token to revoke. Tokens of other users and integrations are revoked with Security Token → Revoke.",
		hint: 'Revoking is final',
		placeholder: 'Select a token...',
		searchListMethod: 'searchRefreshTokens',
		show: showForRevoke,
	}),
	dryRunField(
		showForRevoke,
		"Whether to revoke nothing and only read the token from the PBX's list of the integration's own tokens: the item shows the token and wouldRevoke (false when it is revoked already). An ID the PBX does not list there fails as a real revocation would.",
	),
	verifyField(showForRevoke, verifyRevocation),
];
