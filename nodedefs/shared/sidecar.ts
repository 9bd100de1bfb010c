// What every Tokenwarden node and credential shares: the fields that say
// where the sidecar is and which connection it uses, the request every
// operation starts from, and the hooks that read the sidecar's answers.
//
// The nodes are declarative (no execute method): n8n's routing engine builds
// and sends each request. Two things it does not do are done here:
//   - it sets no pairedItem when a list gives several items for one input
//     item or when an item fails, so `$('Node').item` breaks after such a
//     node; callSidecar stamps every item it gives with the item it came from;
//   - for an HTTP error or an unreachable host it shows a generic message;
//     sidecarAnswer and callSidecar put the sidecar's explanation there, in
//     the words of the form (field labels, the value that failed, the URL).
import {
	NodeApiError,
	type DeclarativeRestApiSettings,
	type IAuthenticateGeneric,
	type ICredentialTestRequest,
	type IDataObject,
	type IExecutePaginationFunctions,
	type IExecuteSingleFunctions,
	type IN8nHttpFullResponse,
	type INode,
	type INodeExecutionData,
	type INodeProperties,
	type INodePropertyOptions,
	type INodeTypeDescription,
	type JsonObject,
} from 'n8n-workflow';

import { connectionMapping, type ConnectionMapping, type ConnectionSpec } from './connections';

// ---- credential fields

/** Shows a credential field only when the credential holds the connection itself. */
export const detailsOnly = { show: { connectionMode: ['details'] } };

/** The fields every credential starts with: the sidecar, and where the connection is kept. */
export const sidecarFields: INodeProperties[] = [
	{
		displayName: 'Sidecar URL',
		name: 'sidecarUrl',
		type: 'string',
		default: 'http://127.0.0.1:8787',
		required: true,
		description: 'Where the Tokenwarden sidecar listens, as seen from n8n',
	},
	{
		displayName: 'Sidecar API Key',
		name: 'sidecarApiKey',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		description:
			"The sidecar's API key, sent as a bearer token. Leave empty when the sidecar listens on loopback without keys.",
	},
	{
		displayName: 'Connection',
		name: 'connectionMode',
		type: 'options',
		default: 'details',
		options: [
			{
				name: 'Enter Connection Details',
				value: 'details',
				description: 'This credential holds the address and secrets and sends them with every request',
			},
			{
				name: 'Use a Sidecar Profile',
				value: 'profile',
				description:
					"The sidecar keeps the connection in its config file; this credential holds only the profile's name",
			},
		],
		description: 'Where the connection to the system is kept',
	},
	{
		displayName: 'Profile Name',
		name: 'profile',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'pbx-main',
		displayOptions: { show: { connectionMode: ['profile'] } },
		description: "Name of a connection profile in the sidecar's config file (profiles.&lt;name&gt;)",
	},
];

/** The TLS fields every credential ends with (connection.tls). */
export const tlsFields: INodeProperties[] = [
	{
		displayName: 'Ignore SSL Issues (Insecure)',
		name: 'ignoreSslIssues',
		type: 'boolean',
		default: false,
		description:
			'Whether to accept any certificate the server presents. Only for on-premise systems with self-signed certificates you cannot replace.',
		displayOptions: detailsOnly,
	},
	{
		displayName: 'Custom CA Certificates (PEM)',
		name: 'caCertificatesPem',
		type: 'string',
		typeOptions: { rows: 4, password: true },
		default: '',
		description: 'Extra certificate authorities to trust, for servers signed by a private CA',
		displayOptions: detailsOnly,
	},
	{
		displayName: 'Client Certificate (PEM)',
		name: 'clientCertificatePem',
		type: 'string',
		typeOptions: { rows: 4, password: true },
		default: '',
		description: 'Certificate the sidecar presents to the server (mutual TLS)',
		displayOptions: detailsOnly,
	},
	{
		displayName: 'Client Private Key (PEM)',
		name: 'clientPrivateKeyPem',
		type: 'string',
		typeOptions: { rows: 4, password: true },
		default: '',
		description: 'Private key of the client certificate',
		displayOptions: detailsOnly,
	},
];

/** The sidecar key goes in a header, only to the sidecar. */
export const sidecarAuthenticate: IAuthenticateGeneric = {
	type: 'generic',
	properties: {
		headers: {
			Authorization: "={{$credentials.sidecarApiKey ? 'Bearer ' + $credentials.sidecarApiKey : undefined}}",
		},
	},
};

// ---- the connection object

/**
 * connectionExpression folds a mapping into one expression: the whole object
 * when the credential holds the connection, undefined in profile mode. n8n
 * resolves a nested object field by field, so a nested mapping would still
 * send {"tls": {}} in profile mode (and the sidecar refuses connection and
 * profile together); an undefined member is left out of the JSON body.
 * Pieces are joined with spaces so no "}}" ends the expression early.
 */
export function connectionExpression(mapping: ConnectionMapping): string {
	const fold = (v: string | ConnectionMapping): string => {
		if (typeof v !== 'string') {
			return `{ ${Object.entries(v)
				.map(([k, sub]) => `${JSON.stringify(k)}: ${fold(sub)}`)
				.join(', ')} }`;
		}
		const m = /^=\{\{([\s\S]*)\}\}$/.exec(v);
		if (!m) throw new Error(`connection mapping value ${JSON.stringify(v)} is not an expression`);
		return `(${m[1].trim()})`;
	};
	return `={{ $credentials.connectionMode === 'profile' ? undefined : ${fold(mapping)} }}`;
}

/** The profile member: the profile's name in profile mode, else left out. */
export const profileExpression =
	"={{$credentials.connectionMode === 'profile' ? $credentials.profile : undefined}}";

export const sidecarBaseURL = "={{$credentials.sidecarUrl.replace(/\\/+$/, '')}}";

/** The envelope of every request to the sidecar, without input. */
export function envelope(spec: ConnectionSpec): IDataObject {
	return { connection: connectionExpression(connectionMapping(spec)), profile: profileExpression };
}

// ---- the Test button

const problemMessages: Array<[string, string]> = [
	['unauthorized', 'The sidecar refused the Sidecar API Key: check the key, or leave it empty if the sidecar runs without keys'],
	['invalid-input', 'Some settings are missing or malformed: check the address and the required fields'],
	['upstream-auth-failed', 'The system rejected these credentials: check the client ID or username and the secret'],
	['upstream-forbidden', 'Signed in, but this account may not use the API: check its role or privileges'],
	['upstream-unreachable', 'The sidecar could not reach the system: check the address and that the sidecar can connect to it'],
	['upstream-timeout', 'The system did not answer the sidecar in time'],
	['upstream-unsupported-version', "The system's API version is not supported by Tokenwarden"],
	['destination-refused', 'The sidecar is not allowed to connect to this address (see its upstream allowlist)'],
	['upstream-rate-limited', 'The system is rate limiting: try again in a minute'],
	['upstream-error', 'The system failed or gave an answer the sidecar could not read'],
];
const otherStatuses = [400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504];

/**
 * The Test button's request: POST /v1/connections/{provider}/test with the
 * envelope. It must not fail on an error status (n8n would show its generic
 * text for the status), so rules turn each problem type into a message.
 */
export function connectionTest(provider: string, spec: ConnectionSpec): ICredentialTestRequest {
	return {
		request: {
			baseURL: sidecarBaseURL,
			url: `/v1/connections/${provider}/test`,
			method: 'POST',
			body: envelope(spec),
			ignoreHttpStatusErrors: true,
		},
		rules: [
			...problemMessages.map(([type, message]) => ({
				type: 'responseSuccessBody' as const,
				properties: { key: 'type', value: `https://tokenwarden.dev/problems/${type}`, message },
			})),
			...otherStatuses.map((status) => ({
				type: 'responseSuccessBody' as const,
				properties: { key: 'status', value: status, message: `The sidecar answered HTTP ${status}: see its log for the request` },
			})),
		],
	};
}

// ---- the nodes

/** Where a node's request defaults come from: its credential's connection mapping. */
export function requestDefaults(spec: ConnectionSpec): INodeTypeDescription['requestDefaults'] {
	return {
		baseURL: sidecarBaseURL,
		method: 'POST',
		headers: { Accept: 'application/json, application/problem+json', 'Content-Type': 'application/json' },
		// Problems reach sidecarAnswer, which says what went wrong.
		ignoreHttpStatusErrors: true,
		body: { ...envelope(spec), input: {} },
	};
}

/** What the form calls a field the sidecar names, and whether its value may be shown. */
interface FieldLabel {
	label: string;
	secret: boolean;
	/** Where the property shows (resource, operation, @version), if it is a node's. */
	show?: Record<string, unknown[] | undefined>;
}

/**
 * Labels of the fields a node and its credential send, by sidecar field
 * path; one path can be sent by properties of different operations or
 * versions (3CX's two IDs), so each has its candidates.
 */
export type FieldLabels = Record<string, FieldLabel[]>;

/** The label of a field for the node's current resource, operation and version. */
function labelFor(labels: FieldLabels, path: string, node: INode): FieldLabel | undefined {
	const at: Record<string, unknown> = { ...node.parameters, '@version': node.typeVersion };
	return (labels[path] ?? []).find((l) =>
		Object.entries(l.show ?? {}).every(
			([k, values]) => !['resource', 'operation', '@version'].includes(k) || (values ?? []).includes(at[k]),
		),
	);
}

/**
 * fieldLabels reads the labels from the descriptions themselves: each node
 * property that sends input.x, and each credential field a connection
 * mapping reads. So a renamed label is renamed in the errors too.
 */
export function fieldLabels(
	properties: INodeProperties[],
	credential: { displayName: string; properties: INodeProperties[] },
	spec: ConnectionSpec,
): FieldLabels {
	const mapping = connectionMapping(spec);
	const out: FieldLabels = {};
	const isSecret = (p: INodeProperties) => p.typeOptions?.password === true;
	const visit = (props: Array<INodeProperties | INodePropertyOptions>) => {
		for (const p of props) {
			if (!('displayName' in p)) continue;
			const send = p.routing?.send;
			if (send?.type === 'body' && typeof send.property === 'string') {
				(out[send.property] ??= []).push({ label: p.displayName, secret: isSecret(p), show: p.displayOptions?.show as FieldLabel['show'] });
			}
			if (p.type === 'collection' && Array.isArray(p.options)) visit(p.options as INodeProperties[]);
		}
	};
	visit(properties);
	const byName = new Map(credential.properties.map((p) => [p.name, p]));
	const walk = (m: ConnectionMapping, prefix: string) => {
		for (const [key, v] of Object.entries(m)) {
			if (typeof v !== 'string') {
				walk(v, `${prefix}${key}.`);
				continue;
			}
			const refs = [...v.matchAll(/\$credentials\.([A-Za-z0-9_]+)/g)].map((r) => byName.get(r[1]));
			const p = refs.reverse().find((r) => r !== undefined && r.type !== 'hidden');
			if (p) out[`connection.${prefix}${key}`] = [{ label: `${p.displayName} (credential)`, secret: isSecret(p) }];
		}
	};
	walk(mapping, '');
	out.profile = [{ label: 'Profile Name (credential)', secret: false }];
	return out;
}

/** An RFC 9457 problem as the sidecar answers it. */
interface Problem {
	[member: string]: unknown;
	type?: string;
	title?: string;
	detail?: string;
	status?: number;
	errors?: Array<{ field: string; message: string }>;
}

function isProblem(body: unknown): body is Problem {
	return body !== null && typeof body === 'object' && !Array.isArray(body);
}

/** A failure the sidecar explained; callSidecar words it for the user. */
class SidecarProblem extends Error {
	constructor(
		readonly problem: Problem,
		readonly statusCode: number,
	) {
		super(problem.detail || problem.title || `The sidecar answered HTTP ${statusCode}`);
	}
}

/**
 * sidecarAnswer is the first output step of every operation. The routing
 * engine sends with ignoreHttpStatusErrors, so it sees failures too and
 * raises them as SidecarProblem; on success it adds what the list's meta
 * says to every item, as a list gives no item of its own:
 *   - totalCount, when the list was asked to count its matches;
 *   - truncated: true, when Max Items cut the list short.
 * A list the sidecar streams can break off after its answer began (the
 * status is 200 by then): meta.problem says why. That is a failure, not a
 * short list: a flow that acts on what is missing from a list must never see
 * part of one as the whole. The error says how many items had arrived.
 */
export async function sidecarAnswer(
	this: IExecuteSingleFunctions,
	items: INodeExecutionData[],
	response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
	const body = response.body;
	if (response.statusCode >= 400) {
		const problem = isProblem(body) ? body : { detail: typeof body === 'string' ? body.slice(0, 500) : '' };
		throw new SidecarProblem(problem, response.statusCode);
	}
	if (isProblem(body) && Array.isArray(body.data) && isProblem(body.meta)) {
		const meta = body.meta;
		if (isProblem(meta.problem)) {
			const cut = meta.problem;
			const arrived = `${body.data.length} item${body.data.length === 1 ? '' : 's'}`;
			const why = cut.detail || cut.title || 'the sidecar gave no reason';
			throw new SidecarProblem(
				{ ...cut, detail: `The list broke off after ${arrived} had arrived, so it is incomplete: ${why}` },
				typeof cut.status === 'number' ? cut.status : 502,
			);
		}
		for (const entity of body.data) {
			if (!isProblem(entity)) continue;
			if (typeof meta.count === 'number') entity.totalCount = meta.count;
			if (meta.truncated === true) entity.truncated = true;
		}
	}
	return items;
}

/** Looks a dotted path up in the request body, for the value that failed. */
function valueAt(body: unknown, path: string): unknown {
	let v: unknown = body;
	for (const part of path.split('.')) {
		if (v === null || typeof v !== 'object') return undefined;
		v = (v as IDataObject)[part];
	}
	return v;
}

function shown(v: unknown): string {
	const s = JSON.stringify(v) ?? String(v);
	return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * inUserWords replaces sidecar field names in a sidecar message with the
 * labels of the form: dotted paths (input.id, connection.baseUrl) and the
 * camelCase names of input fields (confirmRevokeAll). A plain word such as
 * "id" or "profile" stays as it is, since it also reads as English.
 */
function inUserWords(text: string, labels: FieldLabels, node: INode): string {
	const paths = Object.keys(labels).sort((a, b) => b.length - a.length);
	for (const path of paths) {
		const l = labelFor(labels, path, node);
		if (!l || !path.includes('.')) continue;
		const bare = path.replace(/^input\./, '');
		const names = bare !== path && /[A-Z]/.test(bare) ? [path, bare] : [path];
		for (const name of names) {
			const re = new RegExp(`(?<![\\w.-])${name.replace(/\./g, '\\.')}(?![\\w-])`, 'g');
			text = text.replace(re, `"${l.label}"`);
		}
	}
	return text;
}

/** The node error for a problem the sidecar answered, in the form's words. */
function problemError(this: IExecuteSingleFunctions, err: SidecarProblem, body: unknown, labels: FieldLabels): NodeApiError {
	const { problem, statusCode } = err;
	const node = this.getNode();
	const fieldLines = (Array.isArray(problem.errors) ? problem.errors : []).map((e) => {
		const l = labelFor(labels, e.field, node);
		if (!l) return `${e.field}: ${e.message}`;
		const v = valueAt(body, e.field);
		const value = l.secret || v === undefined ? '' : ` (got ${shown(v)})`;
		return `${l.label}: ${inUserWords(e.message, labels, node)}${value}`;
	});
	// One bad field reads best as the message itself; several are listed.
	const message =
		fieldLines.length === 1
			? fieldLines[0]
			: inUserWords(problem.detail || problem.title || `The sidecar answered HTTP ${statusCode}`, labels, node);
	const description = [
		fieldLines.length > 1 ? fieldLines.join('\n') : '',
		problem.detail && message !== problem.detail ? `Sidecar: ${problem.detail}` : '',
		problem.type ?? '',
	]
		.filter(Boolean)
		.join('\n');
	return new NodeApiError(node, problem as JsonObject, { message, description, httpCode: String(statusCode) });
}

/** The node error for a sidecar that could not be reached or failed to answer. */
async function transportError(this: IExecuteSingleFunctions, error: unknown): Promise<NodeApiError> {
	let url = 'the Sidecar URL of the credential';
	try {
		const creds = await this.getCredentials<{ sidecarUrl?: string }>(credentialName(this));
		if (creds.sidecarUrl) url = creds.sidecarUrl;
	} catch {
		// The message names the credential field instead.
	}
	const cause = error instanceof Error ? error : new Error(String(error));
	const code = (cause as { code?: string }).code ?? (cause as { cause?: { code?: string } }).cause?.code ?? '';
	const reason = /ECONNREFUSED|refused/i.test(`${code} ${cause.message}`)
		? 'refused the connection: is it running?'
		: /ENOTFOUND|EAI_AGAIN/.test(code)
			? 'has a host name that does not resolve'
			: /ETIMEDOUT|ECONNRESET|timeout/i.test(`${code} ${cause.message}`)
				? 'did not answer in time'
				: `could not be reached (${cause.message})`;
	return new NodeApiError(this.getNode(), { message: cause.message, code } as JsonObject, {
		message: `The Tokenwarden sidecar at ${url} ${reason}`,
		description: `Check the Sidecar URL in the credential and that the sidecar is running and reachable from n8n. ${cause.message}`,
		httpCode: 'none',
	});
}

function credentialName(ctx: IExecuteSingleFunctions): string {
	return Object.keys(ctx.getNode().credentials ?? {})[0] ?? '';
}

/**
 * callSidecar makes one operation's request for one input item. It is hooked
 * in as the routing engine's pagination function, the one place a
 * declarative node can wrap its whole request (send and output steps): the
 * sidecar pages lists itself, so this makes exactly one request.
 *
 * Every item it gives points at its input item (pairedItem). On failure it
 * raises a node error in the form's words; with the node's On Error set to
 * continue, it gives instead one item whose json is the input item's with
 * the message in `error`. No item carries n8n's own `error` member: n8n
 * would replace such an item's json with the message alone. For the error
 * output the item is `{error}` only: n8n recognises that shape, moves it to
 * the error output and merges the linked input item's json into it itself.
 */
export function callSidecar(labels: FieldLabels) {
	return async function (
		this: IExecutePaginationFunctions,
		requestData: DeclarativeRestApiSettings.ResultOptions,
	): Promise<INodeExecutionData[]> {
		const itemIndex = this.getItemIndex();
		const pairedItem = { item: itemIndex };
		try {
			const items = await this.makeRoutingRequest(requestData);
			return items.map((item) => ({ ...item, pairedItem }));
		} catch (caught) {
			const error =
				caught instanceof SidecarProblem
					? problemError.call(this, caught, requestData.options.body, labels)
					: caught instanceof NodeApiError && caught.httpCode !== null && caught.httpCode !== 'none'
						? caught
						: await transportError.call(this, caught);
			if (!this.continueOnFail()) {
				(error as { context: IDataObject }).context = { ...error.context, itemIndex };
				throw error;
			}
			if (this.getNode().onError === 'continueErrorOutput') {
				return [{ json: { error: error.message }, pairedItem }];
			}
			return [{ json: { ...this.getInputData().json, error: error.message }, pairedItem }];
		}
	};
}

/**
 * operation is one choice of a node's Operation field: the action it calls,
 * and its output steps after sidecarAnswer. send.paginate routes the
 * request through callSidecar (the node's requestOperations.pagination).
 */
export function operation(
	option: { name: string; value: string; action: string; description: string },
	actionId: string,
	output: NonNullable<NonNullable<INodePropertyOptions['routing']>['output']>['postReceive'] = [
		{ type: 'rootProperty', properties: { property: 'data' } },
	],
): INodePropertyOptions {
	return {
		...option,
		routing: {
			request: { url: `/v1/actions/${actionId}` },
			send: { paginate: true },
			output: { postReceive: [sidecarAnswer, ...(output ?? [])] },
		},
	};
}
