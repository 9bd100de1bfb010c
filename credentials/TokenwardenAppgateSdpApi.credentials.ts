import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

import { appgateConnection } from '../nodedefs/shared/connections';
import { connectionTest, detailsOnly, sidecarAuthenticate, sidecarFields, tlsFields } from '../nodedefs/shared/sidecar';

export class TokenwardenAppgateSdpApi implements ICredentialType {
	name = 'tokenwardenAppgateSdpApi';

	displayName = 'Appgate SDP API';

	documentationUrl = 'https://github.com/tokenwarden/tokenwarden/blob/main/docs/n8n.md';

	icon = { light: 'file:../nodedefs/AppgateSdp/appgate.svg', dark: 'file:../nodedefs/AppgateSdp/appgate.dark.svg' } as const;

	properties: INodeProperties[] = [
		...sidecarFields,
		{
			displayName: 'Controller Admin URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://controller.example.com:8443/admin',
			description: "The controller's admin API address, ending in /admin",
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'options',
			default: 'password',
			options: [
				{
					name: 'Administrator Sign-In',
					value: 'password',
					description: 'The sidecar signs in and renews the session itself',
				},
				{
					name: 'Bearer Token',
					value: 'token',
					description: 'A ready token; calls fail once it expires',
				},
			],
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Identity Provider',
			name: 'providerName',
			type: 'string',
			default: 'local',
			displayOptions: {
				show: { connectionMode: ['details'], authentication: ['password'] },
			},
			description: 'Identity provider of the administrator',
		},
		{
			displayName: 'Username',
			name: 'username',
			type: 'string',
			default: '',
			required: true,
			displayOptions: {
				show: { connectionMode: ['details'], authentication: ['password'] },
			},
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: {
				show: { connectionMode: ['details'], authentication: ['password'] },
			},
		},
		{
			displayName: 'Device ID',
			name: 'deviceId',
			type: 'string',
			default: '',
			displayOptions: {
				show: { connectionMode: ['details'], authentication: ['password'] },
			},
			placeholder: '4c07bc67-57ea-42dd-b702-c2d6c45419fc',
			description: 'Admin device ID (UUID) to sign in with. Leave empty to use a stable one derived from the URL and username.',
		},
		{
			displayName: 'Token',
			name: 'token',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: {
				show: { connectionMode: ['details'], authentication: ['token'] },
			},
		},
		{
			displayName: 'API Version',
			name: 'apiVersion',
			type: 'number',
			default: 0,
			typeOptions: { minValue: 0, maxValue: 99 },
			description: 'Peer API version to use. 0 negotiates it with the controller (20 is the first that can revoke device tokens).',
			displayOptions: detailsOnly,
		},

		...tlsFields,
	];

	authenticate: IAuthenticateGeneric = sidecarAuthenticate;

	test: ICredentialTestRequest = connectionTest('appgate', appgateConnection);
}
