// 3CX → Security Token: the refresh tokens of every user and integration.
import type { INodeProperties } from 'n8n-workflow';

import { operation } from '../../shared/sidecar';

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

export const securityTokenFields: INodeProperties[] = [
	{
		displayName: 'ID',
		name: 'id',
		type: 'number',
		default: 0,
		required: true,
		displayOptions: { show: { resource: ['securityToken'], operation: ['revoke'] } },
		description: 'ID of the security token to revoke',
		hint: 'Revoking is final. Map the ID from a List step, e.g. drag its Id field here.',
		routing: { send: { type: 'body', property: 'input.id' } },
	},
];
