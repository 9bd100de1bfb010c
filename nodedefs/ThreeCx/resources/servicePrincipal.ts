// 3CX → Service Principal: API integrations and their app tokens.
import type { INodeProperties } from 'n8n-workflow';

import { operation } from '../../shared/sidecar';

export const servicePrincipalOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'generateAppToken',
	displayOptions: { show: { resource: ['servicePrincipal'] } },
	options: [
		operation(
			{
				name: 'Generate App Token',
				value: 'generateAppToken',
				action: 'Generate an app token',
				description: 'Generate a new app token for a service principal; 3CX shows it only once',
			},
			'threecx.generateAppToken',
		),
	],
};

export const servicePrincipalFields: INodeProperties[] = [
	{
		displayName: 'ID',
		name: 'id',
		type: 'number',
		default: 0,
		required: true,
		displayOptions: { show: { resource: ['servicePrincipal'], operation: ['generateAppToken'] } },
		description: 'ID of the service principal (API integration)',
		hint: 'Store the generated token straight away: 3CX does not show it again',
		routing: { send: { type: 'body', property: 'input.id' } },
	},
];
