// Which credential field fills which field of each provider's connection
// (schemas/connections/<provider>.json), written as data so that one
// mapping serves both ways a request is built:
//   - connectionExpression renders it as the n8n expression the routing
//     engine resolves for every node request and for the Test button;
//   - connectionFrom evaluates it over decrypted credentials for requests
//     made in code (the resource pickers' searches).
// The contract test holds the rendered mapping against the schemas.
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

/** One connection field: the credential field(s) it takes, and when. */
export interface FieldSource {
	/** The credential field; with several, the first one that is not empty. */
	from: string | string[];
	/**
	 * Sent only when each named credential field has one of these values;
	 * with a list, when any one of the conditions holds (as a field defined
	 * twice shows when either definition's displayOptions hold).
	 */
	when?: Condition | Condition[];
	/** Left out when empty ("", 0, false), instead of sent as such. */
	omitEmpty?: boolean;
}

/** Each named credential field has one of the listed values. */
export type Condition = Record<string, string[]>;

const conditionsOf = (s: FieldSource): Condition[] => (s.when === undefined ? [] : Array.isArray(s.when) ? s.when : [s.when]);

export interface ConnectionSpec {
	[field: string]: FieldSource | ConnectionSpec;
}

const isSource = (v: FieldSource | ConnectionSpec): v is FieldSource =>
	typeof v.from === 'string' || Array.isArray(v.from);

const tls: ConnectionSpec = {
	allowUnauthorizedCerts: { from: 'ignoreSslIssues' },
	caCertPem: { from: 'caCertificatesPem', omitEmpty: true },
	clientCertPem: { from: 'clientCertificatePem', omitEmpty: true },
	clientKeyPem: { from: 'clientPrivateKeyPem', omitEmpty: true },
};

const signIn = { authentication: ['password'] };

export const threeCxConnection: ConnectionSpec = {
	baseUrl: { from: 'baseUrl' },
	clientId: { from: 'clientId' },
	// The field was called clientSecret until 0.2.0 (the editor labels any
	// field of that name "Client Secret"); credentials saved then keep it.
	clientSecret: { from: ['apiKey', 'clientSecret'] },
	tokenLifetimeUnit: { from: 'lifetimeUnit' },
	tls,
};

export const appgateConnection: ConnectionSpec = {
	baseUrl: { from: 'baseUrl' },
	providerName: { from: 'providerName', when: signIn },
	username: { from: 'username', when: signIn },
	password: { from: 'password', when: signIn },
	deviceId: { from: 'deviceId', when: signIn, omitEmpty: true },
	token: { from: 'token', when: { authentication: ['token'] } },
	apiVersion: { from: 'apiVersion', omitEmpty: true },
	tls,
};

// The credential's preset choice is still named dialect: credentials saved
// before presets hold dialect rfc7009 or nexus there, which are presets of
// the same names, so they keep working unchanged. It is sent as preset only
// (the sidecar refuses preset and dialect together).
const clientAuthPresets = ['rfc7009', 'nexus', 'okta', 'auth0', 'keycloak'];

export const oauthConnection: ConnectionSpec = {
	preset: { from: 'dialect' },
	revocationUrl: { from: 'revocationUrl', when: { dialect: ['rfc7009', 'nexus'] }, omitEmpty: true },
	issuer: { from: 'issuer', when: { dialect: ['rfc7009'] }, omitEmpty: true },
	baseUrl: { from: 'baseUrl', when: { dialect: ['nexus', 'keycloak', 'github', 'slack'] }, omitEmpty: true },
	domain: { from: 'domain', when: { dialect: ['okta', 'auth0', 'salesforce'] }, omitEmpty: true },
	authorizationServerId: { from: 'authorizationServerId', when: { dialect: ['okta'] }, omitEmpty: true },
	realm: { from: 'realm', when: { dialect: ['keycloak'] }, omitEmpty: true },
	clientId: { from: 'clientId', when: { dialect: [...clientAuthPresets, 'github'] } },
	clientSecret: {
		from: 'clientSecret',
		when: [
			{ dialect: clientAuthPresets, clientAuthMethod: ['client_secret_basic', 'client_secret_post'] },
			{ dialect: ['github'] },
		],
	},
	clientAuthMethod: { from: 'clientAuthMethod', when: { dialect: clientAuthPresets } },
	basicWithoutFormEncoding: {
		from: 'basicWithoutFormEncoding',
		when: { dialect: clientAuthPresets, clientAuthMethod: ['client_secret_basic'] },
	},
	tls,
};

/** A connection mapping as expressions: "={{ ... }}" leaves. */
export interface ConnectionMapping {
	[field: string]: string | ConnectionMapping;
}

/** expression renders one field source as an expression over $credentials. */
function expression(s: FieldSource): string {
	const froms = Array.isArray(s.from) ? s.from : [s.from];
	let value = froms.map((f) => `$credentials.${f}`).join(' || ');
	if (froms.length > 1) value = `(${value})`;
	if (s.omitEmpty) value = `${value} || undefined`;
	const all = (c: Condition) =>
		Object.entries(c)
			.map(([field, values]) =>
				values.length === 1
					? `$credentials.${field} === '${values[0]}'`
					: `(${values.map((v) => `$credentials.${field} === '${v}'`).join(' || ')})`,
			)
			.join(' && ');
	const conditions = conditionsOf(s).map(all);
	if (!conditions.length) return `={{${value}}}`;
	const test = conditions.length === 1 ? conditions[0] : conditions.map((c) => `(${c})`).join(' || ');
	return `={{${test} ? ${value} : undefined}}`;
}

/** connectionMapping renders a spec as expressions. */
export function connectionMapping(spec: ConnectionSpec): ConnectionMapping {
	const out: ConnectionMapping = {};
	for (const [k, v] of Object.entries(spec)) out[k] = isSource(v) ? expression(v) : connectionMapping(v);
	return out;
}

/**
 * connectionFrom builds the request envelope's connection and profile from
 * decrypted credentials, as the rendered expressions do.
 */
export function envelopeFrom(spec: ConnectionSpec, creds: ICredentialDataDecryptedObject): IDataObject {
	if (creds.connectionMode === 'profile') return { profile: creds.profile };
	const build = (s: ConnectionSpec): IDataObject => {
		const out: IDataObject = {};
		for (const [k, v] of Object.entries(s)) {
			if (!isSource(v)) {
				out[k] = build(v);
				continue;
			}
			const holds = (c: Condition) => Object.entries(c).every(([field, values]) => values.includes(String(creds[field])));
			const conditions = conditionsOf(v);
			if (conditions.length && !conditions.some(holds)) continue;
			const froms = Array.isArray(v.from) ? v.from : [v.from];
			const value = froms.map((f) => creds[f]).find((x) => x !== undefined && x !== '') ?? creds[froms[froms.length - 1]];
			if (v.omitEmpty && !value) continue;
			if (value !== undefined) out[k] = value as IDataObject[string];
		}
		return out;
	};
	return { connection: build(spec) };
}
