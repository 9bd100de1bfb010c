import { NodeConnectionTypes, type INodeProperties, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { TokenwardenOAuthRevocationApi } from '../../credentials/TokenwardenOAuthRevocationApi.credentials';
import { oauthConnection } from '../shared/connections';
import { callSidecar, fieldLabels, requestDefaults } from '../shared/sidecar';
import { tokenFields, tokenOperations } from './resources/token';

const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		default: 'token',
		options: [{ name: 'Token', value: 'token', description: 'An OAuth 2.0 access or refresh token' }],
	},
	tokenOperations,
	...tokenFields,
];

export class OAuth2TokenRevocation implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'OAuth2 Token Revocation',
		name: 'oAuth2TokenRevocation',
		icon: { light: 'file:oauth.svg', dark: 'file:oauth.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ {"token:revoke":"Revoke Token","token:introspect":"Introspect Token"}[$parameter["resource"] + ":" + $parameter["operation"]] }}',
		description: 'Revoke OAuth 2.0 access and refresh tokens (RFC 7009 or Technology Nexus) and introspect them (RFC 7662) through Tokenwarden',
		defaults: { name: 'OAuth2 Token Revocation' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'tokenwardenOAuthRevocationApi', required: true }],
		requestDefaults: requestDefaults(oauthConnection),
		requestOperations: {
			pagination: callSidecar(fieldLabels(properties, new TokenwardenOAuthRevocationApi(), oauthConnection)),
		},
		properties,
	};
}
