// 3CX → Security Token: the refresh tokens of every user and integration.
import type { INodeProperties } from 'n8n-workflow';

import { dryRunField, verifyField } from '../../shared/lifecycle';
import { operation } from '../../shared/sidecar';
import { idPicker, verifyRevocation } from './idPicker';

export const securityTokenOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'revoke',
	displayOptions: { show: { resource: ['securityToken'] } },
	options: [
		operation(
			{
				name: 'List',
				value: 'list',
				action: 'List security tokens',
				description: 'List refresh tokens of every user and integration, to find what to revoke',
			},
			'threecx.listSecurityTokens',
		),
		operation(
			{
				name: 'Revoke',
				value: 'revoke',
				action: 'Revoke a security token',
				description: 'Revoke one refresh token; its sessions stop working',
			},
			'threecx.revokeSecurityToken',
		),
	],
};

const showForRevoke = { resource: ['securityToken'], operation: ['revoke'] };

export const securityTokenFields: INodeProperties[] = [
	// Version 1 (pack 0.1.0): the ID typed or mapped as a number.
	{
		displayName: 'ID',
		name: 'id',
		type: 'number',
		default: 0,
		required: true,
		displayOptions: { show: { '@version': [1], ...showForRevoke } },
		description: 'ID of the security token to revoke',
		hint: 'Revoking is final. Map the ID from a List step, e.g. drag its Id field here.',
		routing: { send: { type: 'body', property: 'input.id' } },
	},
	// Version 2 on: the same field as a picker. The parameter keeps its
	// name; its value becomes a resource locator, sent as the number it holds.
	idPicker({
		displayName: 'Security Token',
		description: 'The security token to revoke',
		hint: 'Revoking is final',
		placeholder: 'Select a token...',
		searchListMethod: 'searchSecurityTokens',
		show: { '@version': [2, 3], ...showForRevoke },
	}),
	// Every version: the two lifecycle options (added without a version
	// bump: off by default, they leave saved workflows as they were).
	dryRunField(
		showForRevoke,
		'Whether to revoke nothing and only read the token from the PBX: the item shows the token as the PBX lists it and wouldRevoke (false when it is revoked already). An ID the PBX does not list fails as a real revocation would.',
	),
	verifyField(showForRevoke, verifyRevocation),
];
