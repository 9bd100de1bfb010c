import { NodeConnectionTypes, type INodeProperties, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { TokenwardenThreeCxApi } from '../../credentials/TokenwardenThreeCxApi.credentials';
import { threeCxConnection } from '../shared/connections';
import { searchRefreshTokens, searchSecurityTokens, searchServicePrincipals } from '../shared/listSearch';
import { callSidecar, fieldLabels, requestDefaults } from '../shared/sidecar';
import { listFields } from './resources/list';
import { refreshTokenFields, refreshTokenOperations } from './resources/refreshToken';
import { securityTokenFields, securityTokenOperations } from './resources/securityToken';
import { servicePrincipalFields, servicePrincipalOperations } from './resources/servicePrincipal';

const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		default: 'securityToken',
		options: [
			{
				name: 'Refresh Token',
				value: 'refreshToken',
				description: "Refresh tokens of the integration's own account (MyTokens)",
			},
			{
				name: 'Security Token',
				value: 'securityToken',
				description: 'Refresh tokens of every user and integration on the PBX',
			},
			{
				name: 'Service Principal',
				value: 'servicePrincipal',
				description: 'API integrations and their app tokens',
			},
		],
	},
	securityTokenOperations,
	refreshTokenOperations,
	servicePrincipalOperations,
	...securityTokenFields,
	...refreshTokenFields,
	...servicePrincipalFields,
	...listFields,
];

export class ThreeCx implements INodeType {
	description: INodeTypeDescription = {
		displayName: '3CX',
		name: 'threeCx',
		icon: { light: 'file:threecx.svg', dark: 'file:threecx.dark.svg' },
		group: ['transform'],
		// 2: the security token is picked from a list (resource locator).
		// 3: so is the service principal of Generate App Token.
		version: [1, 2, 3],
		defaultVersion: 3,
		subtitle:
			'={{ {"securityToken:revoke":"Revoke Security Token","securityToken:list":"List Security Tokens","refreshToken:list":"List Refresh Tokens","refreshToken:revoke":"Revoke Refresh Token","servicePrincipal:generateAppToken":"Generate App Token","servicePrincipal:list":"List Service Principals"}[$parameter["resource"] + ":" + $parameter["operation"]] }}',
		description: 'Revoke 3CX security and refresh tokens, list them and the service principals, and generate app tokens through Tokenwarden',
		defaults: { name: '3CX' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'tokenwardenThreeCxApi', required: true }],
		requestDefaults: requestDefaults(threeCxConnection),
		requestOperations: {
			pagination: callSidecar(fieldLabels(properties, new TokenwardenThreeCxApi(), threeCxConnection)),
		},
		properties,
	};

	methods = { listSearch: { searchRefreshTokens, searchSecurityTokens, searchServicePrincipals } };
}
