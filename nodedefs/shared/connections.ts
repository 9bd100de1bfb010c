// Which credential field fills which field of each provider's connection
// (schemas/connections/<provider>.json). Each mapping is used by the
// credential's Test request and by every request of the provider's node,
// and the contract test holds it against the connection schema.
import { tlsConnection, type ConnectionMapping } from './sidecar';

export const threeCxConnection: ConnectionMapping = {
	baseUrl: '={{$credentials.baseUrl}}',
	clientId: '={{$credentials.clientId}}',
	// The field was called clientSecret until 0.2.0 (the editor labels any
	// field of that name "Client Secret"); credentials saved then keep it.
	clientSecret: '={{$credentials.apiKey || $credentials.clientSecret}}',
	tokenLifetimeUnit: '={{$credentials.lifetimeUnit}}',
	tls: tlsConnection,
};

export const appgateConnection: ConnectionMapping = {
	baseUrl: '={{$credentials.baseUrl}}',
	providerName: "={{$credentials.authentication === 'password' ? $credentials.providerName : undefined}}",
	username: "={{$credentials.authentication === 'password' ? $credentials.username : undefined}}",
	password: "={{$credentials.authentication === 'password' ? $credentials.password : undefined}}",
	deviceId: "={{$credentials.authentication === 'password' && $credentials.deviceId ? $credentials.deviceId : undefined}}",
	token: "={{$credentials.authentication === 'token' ? $credentials.token : undefined}}",
	apiVersion: '={{$credentials.apiVersion || undefined}}',
	tls: tlsConnection,
};

export const oauthConnection: ConnectionMapping = {
	dialect: '={{$credentials.dialect}}',
	revocationUrl: '={{$credentials.revocationUrl || undefined}}',
	issuer: "={{$credentials.dialect === 'rfc7009' && $credentials.issuer ? $credentials.issuer : undefined}}",
	baseUrl: "={{$credentials.dialect === 'nexus' && $credentials.baseUrl ? $credentials.baseUrl : undefined}}",
	clientId: '={{$credentials.clientId}}',
	clientSecret:
		"={{$credentials.clientAuthMethod === 'client_secret_basic' || $credentials.clientAuthMethod === 'client_secret_post' ? $credentials.clientSecret : undefined}}",
	clientAuthMethod: '={{$credentials.clientAuthMethod}}',
	basicWithoutFormEncoding:
		"={{$credentials.clientAuthMethod === 'client_secret_basic' ? $credentials.basicWithoutFormEncoding : undefined}}",
	tls: tlsConnection,
};
