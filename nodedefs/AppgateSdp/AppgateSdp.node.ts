import { NodeConnectionTypes, type INodeProperties, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { TokenwardenAppgateSdpApi } from '../../credentials/TokenwardenAppgateSdpApi.credentials';
import { appgateConnection } from '../shared/connections';
import { searchDevices } from '../shared/listSearch';
import { callSidecar, fieldLabels, requestDefaults } from '../shared/sidecar';
import { deviceFields, deviceOperations } from './resources/device';

const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		default: 'device',
		options: [{ name: 'Device', value: 'device', description: 'Registered (on-boarded) user devices' }],
	},
	deviceOperations,
	...deviceFields,
];

export class AppgateSdp implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Appgate SDP',
		name: 'appgateSdp',
		icon: { light: 'file:appgate.svg', dark: 'file:appgate.dark.svg' },
		group: ['transform'],
		// 2: the filter can pick a device from a list (resource locator).
		version: [1, 2],
		defaultVersion: 2,
		subtitle:
			'={{ {"device:revokeTokens":"Revoke Device Tokens","device:list":"List Devices"}[$parameter["resource"] + ":" + $parameter["operation"]] }}',
		description: 'Revoke Appgate SDP device tokens and list registered devices through Tokenwarden',
		defaults: { name: 'Appgate SDP' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'tokenwardenAppgateSdpApi', required: true }],
		requestDefaults: requestDefaults(appgateConnection),
		requestOperations: {
			pagination: callSidecar(fieldLabels(properties, new TokenwardenAppgateSdpApi(), appgateConnection)),
		},
		properties,
	};

	methods = { listSearch: { searchDevices } };
}
