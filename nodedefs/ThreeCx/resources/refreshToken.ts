// 3CX → Refresh Token: the refresh tokens of the integration's own account
// (MyTokens). Its one operation lists them, with the fields in list.ts.
import type { INodeProperties } from 'n8n-workflow';

import { operation } from '../../shared/sidecar';

export const refreshTokenOperations: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'list',
	displayOptions: { show: { resource: ['refreshToken'] } },
	options: [
		operation(
			{
				name: 'List',
				value: 'list',
				action: 'List refresh tokens',
				description: "List the refresh tokens of the integration's own account",
			},
			'threecx.listRefreshTokens',
		),
	],
};
