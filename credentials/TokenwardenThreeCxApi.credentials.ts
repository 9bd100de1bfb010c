import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties } from 'n8n-workflow';

import { threeCxConnection } from '../nodedefs/shared/connections';
import { connectionTest, detailsOnly, sidecarAuthenticate, sidecarFields, tlsFields } from '../nodedefs/shared/sidecar';

export class TokenwardenThreeCxApi implements ICredentialType {
	name = 'tokenwardenThreeCxApi';

	displayName = '3CX API';

	documentationUrl = 'https://github.com/tokenwarden/tokenwarden/blob/main/docs/n8n.md';

	icon = { light: 'file:../nodedefs/ThreeCx/threecx.svg', dark: 'file:../nodedefs/ThreeCx/threecx.dark.svg' } as const;

	properties: INodeProperties[] = [
		...sidecarFields,
		{
			displayName: '3CX URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://pbx.example.com',
			description: 'Address of the 3CX V20 PBX, without /xapi/v1',
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			description: 'Client ID of the API integration (Admin Console > Integrations > API)',
			displayOptions: detailsOnly,
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'The API key 3CX showed once when the integration was created',
			displayOptions: detailsOnly,
		},
		{
			displayName: 'Token Lifetime Unit',
			name: 'lifetimeUnit',
			type: 'options',
			default: 'auto',
			options: [
				{
					name: 'Detect',
					value: 'auto',
					description: 'Values of 120 or less are minutes',
				},
				{ name: 'Seconds (3CX 20.0.9 and Later)', value: 'seconds' },
				{ name: 'Minutes (Before 3CX 20.0.9)', value: 'minutes' },
			],
			description: 'How the PBX counts the lifetime of its access tokens',
			displayOptions: detailsOnly,
		},

		...tlsFields,
		// Where credentials saved before 0.2.0 keep the API key: the field
		// was named clientSecret, which the editor always labels "Client
		// Secret". Hidden, so it is kept and still sent, but not shown.
		{
			displayName: 'API Key (Saved Before 0.2.0)',
			name: 'clientSecret',
			type: 'hidden',
			typeOptions: { password: true },
			default: '',
		},
	];

	authenticate: IAuthenticateGeneric = sidecarAuthenticate;

	test: ICredentialTestRequest = connectionTest('threecx', threeCxConnection);
}
