// 3CX → Service Principal: API integrations and their app tokens. List
// takes the fields in list.ts.
import type { INodeProperties } from 'n8n-workflow';

import { dryRunField } from '../../shared/lifecycle';
import { operation } from '../../shared/sidecar';
import { idPicker } from './idPicker';

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
		operation(
			{
				name: 'List',
				value: 'list',
				action: 'List service principals',
				description: 'List the API integrations, e.g. to find the one whose app token to rotate',
			},
			'threecx.listServicePrincipals',
		),
	],
};

const showForGenerate = { resource: ['servicePrincipal'], operation: ['generateAppToken'] };

export const servicePrincipalFields: INodeProperties[] = [
	// Versions 1 and 2: the ID typed or mapped as a number.
	{
		displayName: 'ID',
		name: 'id',
		type: 'number',
		default: 0,
		required: true,
		displayOptions: { show: { '@version': [1, 2], ...showForGenerate } },
		description: 'ID of the service principal (API integration)',
		hint: 'Store the generated token straight away: 3CX does not show it again',
		routing: { send: { type: 'body', property: 'input.id' } },
	},
	// Version 3: the same field as a picker, as the security token became
	// one in version 2. The parameter keeps its name.
	idPicker({
		displayName: 'Service Principal',
		description: 'The API integration that gets a new app token. Its previous API key stops working for sign-in.',
		hint: 'Store the generated token straight away: 3CX does not show it again',
		placeholder: 'Select an integration...',
		searchListMethod: 'searchServicePrincipals',
		show: { '@version': [3], ...showForGenerate },
	}),
	dryRunField(
		showForGenerate,
		'Whether to generate nothing and only read the service principal from the PBX: the item shows it as the PBX lists it, and its API key keeps working. An ID the PBX does not know fails as a real call would.',
	),
];
