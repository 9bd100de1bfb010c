// The searches behind the resource pickers ("From list"): each calls one of
// the sidecar's list actions with the node's credential, as the node's own
// requests do, and turns the entities into the picker's entries.
import {
	NodeApiError,
	type IDataObject,
	type ILoadOptionsFunctions,
	type INodeListSearchItems,
	type INodeListSearchResult,
	type JsonObject,
} from 'n8n-workflow';

import { appgateConnection, envelopeFrom, threeCxConnection, type ConnectionSpec } from './connections';

async function listAction(
	ctx: ILoadOptionsFunctions,
	credentialType: string,
	spec: ConnectionSpec,
	actionId: string,
	input: IDataObject,
): Promise<IDataObject[]> {
	const creds = await ctx.getCredentials(credentialType);
	const sidecar = String(creds.sidecarUrl ?? '').replace(/\/+$/, '');
	try {
		const answer = (await ctx.helpers.httpRequestWithAuthentication.call(ctx, credentialType, {
			method: 'POST',
			url: `${sidecar}/v1/actions/${actionId}`,
			headers: { Accept: 'application/json, application/problem+json' },
			body: { ...envelopeFrom(spec, creds), input },
			json: true,
		})) as { data?: IDataObject[] };
		return Array.isArray(answer.data) ? answer.data : [];
	} catch (error) {
		const body = (error as { cause?: { response?: { data?: IDataObject } } }).cause?.response?.data;
		const detail = typeof body?.detail === 'string' ? body.detail : (error as Error).message;
		// A description of our own: left out, n8n takes the problem's
		// detail for it, and the editor shows the detail twice.
		const description =
			typeof body?.title === 'string'
				? `The sidecar answered: ${body.title}${typeof body.type === 'string' ? ` (${body.type})` : ''}.`
				: 'Check the Sidecar URL in the credential and that the sidecar is running and reachable from n8n.';
		throw new NodeApiError(ctx.getNode(), (body ?? {}) as JsonObject, {
			message: `Could not list from the sidecar at ${sidecar}: ${detail}`,
			description,
		});
	}
}

/** Unrevoked 3CX tokens of a list action, newest first, searched by the text typed. */
async function searchTokens(ctx: ILoadOptionsFunctions, actionId: string, filter?: string): Promise<INodeListSearchResult> {
	const tokens = await listAction(ctx, 'tokenwardenThreeCxApi', threeCxConnection, actionId, {
		filter: 'Revoked eq null',
		search: filter || undefined,
		select: 'Id,DisplayName,ClientId,Created',
		orderBy: 'Created desc',
		top: 100,
	});
	const results: INodeListSearchItems[] = tokens.map((t) => ({
		name: `${String(t.DisplayName ?? t.ClientId ?? 'Token')} (ID ${String(t.Id)})`,
		value: String(t.Id),
	}));
	return { results };
}

/** Unrevoked 3CX security tokens (every user and integration). */
export async function searchSecurityTokens(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	return searchTokens(this, 'threecx.listSecurityTokens', filter);
}

/** Unrevoked refresh tokens of the integration's own account (MyTokens). */
export async function searchRefreshTokens(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	return searchTokens(this, 'threecx.listRefreshTokens', filter);
}

/** 3CX service principals (API integrations) by number, searched by the text typed. */
export async function searchServicePrincipals(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const principals = await listAction(this, 'tokenwardenThreeCxApi', threeCxConnection, 'threecx.listServicePrincipals', {
		search: filter || undefined,
		select: 'Id,Number,LastUsed',
		orderBy: 'Number',
		top: 100,
	});
	const results: INodeListSearchItems[] = principals.map((p) => ({
		name: `${String(p.Number ?? 'Integration')} (ID ${String(p.Id)})`,
		value: String(p.Id),
	}));
	return { results };
}

/** Registered Appgate devices, searched by the text typed; the value is the device's distinguished name. */
export async function searchDevices(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const devices = await listAction(this, 'tokenwardenAppgateSdpApi', appgateConnection, 'appgate.listOnboardedDevices', {
		query: filter || undefined,
		orderBy: 'lastSeenAt',
		descending: true,
		range: '0-100',
	});
	const results: INodeListSearchItems[] = devices.map((d) => ({
		name: `${String(d.username ?? '?')}@${String(d.providerName ?? '?')}: ${String(d.hostname ?? d.deviceId ?? '')}`,
		value: String(d.distinguishedName),
	}));
	return { results };
}
