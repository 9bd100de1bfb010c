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
	// Version 1 (pack 0.1.0): the ID typed or mapped as a number.
	{
		displayName: 'ID',
		name: 'id',
		type: 'number',
		default: 0,
		required: true,
		displayOptions: { show: { '@version': [1], resource: ['securityToken'], operation: ['revoke'] } },
		description: 'ID of the security token to revoke',
		hint: 'Revoking is final. Map the ID from a List step, e.g. drag its Id field here.',
		routing: { send: { type: 'body', property: 'input.id' } },
	},
	// Version 2: the same field as a picker. The parameter keeps its name;
	// its value becomes a resource locator, sent as the number it holds.
	{
		displayName: 'Security Token',
		name: 'id',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		displayOptions: { show: { '@version': [2], resource: ['securityToken'], operation: ['revoke'] } },
		description: 'The security token to revoke',
		hint: 'Revoking is final',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a token...',
				typeOptions: { searchListMethod: 'searchSecurityTokens', searchable: true },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. 42',
				validation: [{ type: 'regex', properties: { regex: '^[0-9]+$', errorMessage: 'An ID is a whole number' } }],
			},
		],
		routing: { send: { type: 'body', property: 'input.id', value: '={{ Number($value) }}' } },
	},
];
