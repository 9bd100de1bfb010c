// Appgate SDP → Device: registered (on-boarded) user devices.
import type { IDataObject, IExecuteSingleFunctions, IN8nHttpFullResponse, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { dryRunField, verifyField } from '../../shared/lifecycle';
import { operation } from '../../shared/sidecar';

const showFor = (op: string) => ({ resource: ['device'], operation: [op] });

/**
 * A revocation gives one item: deviceCount (revoked, or in a dry run that
 * would be), the devices, and totalCount (devices the controller lists in
 * all, not how many were revoked), plus what a dry run or Verify added to
 * the answer's meta (dryRun and caveats; verified and verification).
 */
async function revocationItem(
	this: IExecuteSingleFunctions,
	_items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	const body = response.body as { data?: IDataObject[]; meta?: IDataObject };
	const devices = body.data ?? [];
	const meta = body.meta ?? {};
	const json: IDataObject = { deviceCount: devices.length, devices, totalCount: meta.totalCount };
	for (const key of ['dryRun', 'caveats', 'verified', 'verification']) {
		if (meta[key] !== undefined) json[key] = meta[key];
	}
	return [{ json }];
}

export const deviceOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'revokeTokens',
	displayOptions: { show: { resource: ['device'] } },
	options: [
		operation(
			{
				name: 'List',
				value: 'list',
				action: 'List registered devices',
				description: 'List registered devices, e.g. to preview what a filter hits',
			},
			'appgate.listOnboardedDevices',
		),
		operation(
			{
				name: 'Revoke Tokens',
				value: 'revokeTokens',
				action: 'Revoke device tokens',
				description:
					'Revoke the tokens of the devices a filter selects; one item gives deviceCount (revoked), the devices, and totalCount (devices the controller lists in all)',
			},
			'appgate.revokeDeviceTokens',
			[revocationItem],
		),
	],
};

const showForRevoke = showFor('revokeTokens');

export const deviceFields: INodeProperties[] = [
	// Version 1 (pack 0.1.0): the filter as text.
	{
		displayName: 'Distinguished Name Filter',
		name: 'distinguishedNameFilter',
		type: 'string',
		default: '',
		placeholder: 'CN=alice,OU=ldap',
		displayOptions: { show: { '@version': [1], ...showFor('revokeTokens') } },
		description: 'Which devices, matched from the end of their distinguished name: OU=ldap hits every device of the ldap provider, CN=alice,OU=ldap every device of alice, a full distinguished name one device. Leave empty to use Specific Distinguished Names.',
		routing: {
			send: { type: 'body', property: 'input.distinguishedNameFilter' },
		},
	},
	// Version 2: the same field with a picker of the controller's devices
	// beside the filter typed in. The parameter keeps its name and sends the
	// text it holds.
	{
		displayName: 'Distinguished Name Filter',
		name: 'distinguishedNameFilter',
		type: 'resourceLocator',
		default: { mode: 'filter', value: '' },
		displayOptions: { show: { '@version': [2], ...showFor('revokeTokens') } },
		description:
			'Which devices, matched from the end of their distinguished name: OU=ldap hits every device of the ldap provider, CN=alice,OU=ldap every device of alice, a device picked from the list that device alone. Leave empty to use Specific Distinguished Names.',
		modes: [
			{ displayName: 'By Filter', name: 'filter', type: 'string', placeholder: 'CN=alice,OU=ldap' },
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a device...',
				typeOptions: { searchListMethod: 'searchDevices', searchable: true },
			},
		],
		routing: { send: { type: 'body', property: 'input.distinguishedNameFilter' } },
	},
	{
		displayName: 'Revoke Every Device Active in the Last 24 Hours',
		name: 'confirmRevokeAll',
		type: 'boolean',
		default: false,
		displayOptions: { show: { ...showFor('revokeTokens'), distinguishedNameFilter: [''] } },
		description: 'Whether to confirm that an empty filter without specific names really means every device active in the last 24 hours. Off, such a run is refused, because an empty filter is usually an expression that came out empty by mistake.',
		routing: {
			send: { type: 'body', property: 'input.confirmRevokeAll' },
		},
	},
	{
		displayName: 'Specific Distinguished Names',
		name: 'specificDistinguishedNames',
		type: 'string',
		default: [],
		typeOptions: {
			multipleValues: true,
			multipleValueButtonText: 'Add Distinguished Name',
		},
		placeholder: 'CN=4c07bc6757ea42ddb702c2d6c45419fc,CN=alice,OU=ldap',
		displayOptions: { show: { ...showFor('revokeTokens'), distinguishedNameFilter: [''] } },
		description: 'Exactly these devices, by full distinguished name. Only with an empty filter.',
		routing: {
			send: {
				type: 'body',
				property: 'input.specificDistinguishedNames',
				value: '={{ $value.length ? $value : undefined }}',
			},
		},
	},
	// Every version: the two lifecycle options (off by default, so saved
	// workflows run as they did).
	dryRunField(
		showForRevoke,
		'Whether to revoke nothing and only list the devices the selection hits, read from the controller by the same rules as a revocation (an empty filter: the devices seen in the last 24 hours). caveats says where the list cannot tell exactly, e.g. for a Site ID or Token Type. The same refusals apply as to a real revocation.',
	),
	verifyField(
		showForRevoke,
		"Whether to check the revocation afterwards. Appgate's admin API shows no token state, so the item says plainly that it cannot be verified (verified false, verification unverifiable) and what the API can show: the devices the controller says it revoked and when each last signed in.",
	),
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: showFor('revokeTokens') },
		options: [
			{
				displayName: 'Delay (Minutes)',
				name: 'delayMinutes',
				type: 'number',
				default: 5,
				typeOptions: { minValue: 0 },
				description: 'Minutes until the tokens stop working. Connected clients renew before then without losing their connection.',
				routing: {
					send: { type: 'body', property: 'input.delayMinutes' },
				},
			},
			{
				displayName: 'Devices per Second',
				name: 'devicesPerSecond',
				type: 'number',
				default: 2,
				typeOptions: { minValue: 0.1, numberPrecision: 1 },
				description: 'How many devices the controller revokes per second, to spread the load',
				routing: {
					send: { type: 'body', property: 'input.devicesPerSecond' },
				},
			},
			{
				displayName: 'Revocation Reason',
				name: 'revocationReason',
				type: 'string',
				default: '',
				placeholder: 'Employee left',
				description: 'Why; the controller stores and logs it',
				routing: {
					send: { type: 'body', property: 'input.revocationReason' },
				},
			},
			{
				displayName: 'Site ID',
				name: 'siteId',
				type: 'string',
				default: '',
				placeholder: '8a4add9e-0e99-4bb1-949c-c9faf9a49ad4',
				description: 'Only devices that connected to this site (UUID)',
				routing: {
					send: { type: 'body', property: 'input.siteId' },
				},
			},
			{
				displayName: 'Token Type',
				name: 'tokenType',
				type: 'options',
				default: 'Claims',
				options: [
					{ name: 'Admin Claims', value: 'AdminClaims' },
					{ name: 'Administration', value: 'Administration' },
					{ name: 'Claims', value: 'Claims' },
					{ name: 'Entitlement', value: 'Entitlement' },
				],
				description: 'Only this kind of token (all kinds when not added)',
				routing: {
					send: { type: 'body', property: 'input.tokenType' },
				},
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: showFor('list') },
		options: [
			{
				displayName: 'Descending',
				name: 'descending',
				type: 'boolean',
				default: false,
				description: 'Whether to sort in descending order',
				routing: {
					send: { type: 'body', property: 'input.descending' },
				},
			},
			{
				displayName: 'Filters',
				name: 'filterBy',
				type: 'json',
				default: '{}',
				description: 'Device fields and a value each must contain, e.g. {"providerName": "ldap"}',
				routing: {
					send: {
						type: 'body',
						property: 'input.filterBy',
						value: "={{ typeof $value === 'string' ? JSON.parse($value) : $value }}",
					},
				},
			},
			{
				displayName: 'Order By',
				name: 'orderBy',
				type: 'options',
				default: 'distinguishedName',
				options: [
					{ name: 'Device ID', value: 'deviceId' },
					{ name: 'Device Type', value: 'device_type' },
					{ name: 'Distinguished Name', value: 'distinguishedName' },
					{ name: 'Hostname', value: 'hostname' },
					{ name: 'Identity Provider', value: 'providerName' },
					{ name: 'Last Seen', value: 'lastSeenAt' },
					{ name: 'Registered At', value: 'onBoardedAt' },
					{ name: 'Username', value: 'username' },
				],
				description: 'Field to sort by',
				routing: {
					send: { type: 'body', property: 'input.orderBy' },
				},
			},
			{
				displayName: 'Range',
				name: 'range',
				type: 'string',
				default: '0-50',
				placeholder: '0-50',
				description: 'Which items, as from-to (zero-based, to not included)',
				routing: {
					send: { type: 'body', property: 'input.range' },
				},
			},
			{
				displayName: 'Search',
				name: 'query',
				type: 'string',
				default: '',
				description: 'Text searched in distinguished name, device ID, username, provider and hostname',
				routing: {
					send: { type: 'body', property: 'input.query' },
				},
			},
		],
	},
];
