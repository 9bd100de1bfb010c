// 3CX list operations: every list (Security Token, Refresh Token and
// Service Principal → List) takes the same OData options, as their actions
// share schemas/defs/odata.json.
import type { INodeProperties } from 'n8n-workflow';

const showForLists = { resource: ['securityToken', 'refreshToken', 'servicePrincipal'], operation: ['list'] };

export const listFields: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		displayOptions: { show: showForLists },
		description: 'Whether to return all results or only up to a given limit',
		routing: {
			send: { type: 'body', property: 'input.returnAll' },
		},
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		default: 50,
		typeOptions: { minValue: 1 },
		displayOptions: { show: { ...showForLists, returnAll: [false] } },
		description: 'Max number of results to return',
		routing: {
			send: { type: 'body', property: 'input.top' },
		},
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: showForLists },
		options: [
			{
				displayName: 'Count',
				name: 'count',
				type: 'boolean',
				default: false,
				description: 'Whether to also count every match ($count). The total is added to each item as totalCount.',
				routing: {
					send: { type: 'body', property: 'input.count' },
				},
			},
			{
				displayName: 'Expand',
				name: 'expand',
				type: 'string',
				default: '',
				placeholder: 'Client',
				description: 'Related entities to include ($expand), comma-separated, e.g. Client for a token',
				routing: {
					send: { type: 'body', property: 'input.expand' },
				},
			},
			{
				displayName: 'Filter',
				name: 'filter',
				type: 'string',
				default: '',
				placeholder: 'Revoked eq null',
				description: "OData filter on the properties ($filter), e.g. Revoked eq null and contains(DisplayName,'Ann') for tokens, XAPIEnabled eq true for service principals",
				routing: {
					send: { type: 'body', property: 'input.filter' },
				},
			},
			{
				displayName: 'Max Items With Return All',
				name: 'maxItems',
				type: 'number',
				default: 10000,
				typeOptions: { minValue: 1 },
				displayOptions: {
					show: { '/returnAll': [true] },
				},
				description: 'With Return All, stop after this many items, as a safety net. When it cuts the list, every item carries truncated: true.',
				routing: {
					send: { type: 'body', property: 'input.limit' },
				},
			},
			{
				displayName: 'Order By',
				name: 'orderBy',
				type: 'string',
				default: '',
				placeholder: 'Created desc, DisplayName',
				description: 'Sort order ($orderby), comma-separated; add desc for descending',
				routing: {
					send: { type: 'body', property: 'input.orderBy' },
				},
			},
			{
				displayName: 'Search',
				name: 'search',
				type: 'string',
				default: '',
				description: 'Search phrase ($search). A phrase with spaces is quoted for you.',
				routing: {
					send: { type: 'body', property: 'input.search' },
				},
			},
			{
				displayName: 'Select',
				name: 'select',
				type: 'string',
				default: '',
				placeholder: 'DisplayName,Created,Expires',
				description: 'Only these properties ($select), comma-separated',
				routing: {
					send: { type: 'body', property: 'input.select' },
				},
			},
			{
				displayName: 'Skip',
				name: 'skip',
				type: 'number',
				default: 0,
				typeOptions: { minValue: 0 },
				description: 'Skip the first n items ($skip)',
				routing: {
					send: { type: 'body', property: 'input.skip' },
				},
			},
		],
	},
];
