// The two options every changing operation shares (schemas/defs/lifecycle.json):
// Dry Run, which changes nothing and shows what would be hit, and Verify,
// which re-reads the system after a revocation. Each node words them for
// its system: what its dry run reads, what evidence its verification reads.
import type { INodeProperties } from 'n8n-workflow';

type Show = NonNullable<INodeProperties['displayOptions']>['show'];

/**
 * A switch left off is not sent: the wire body stays what it was before
 * these options existed (an older sidecar, upgraded after the pack, would
 * refuse a field it does not know), and off is the schema's default.
 */
const OFF_UNSENT = '={{ $value || undefined }}';

/** The Dry Run switch of one operation; description says what it reads on this system. */
export function dryRunField(show: Show, description: string): INodeProperties {
	return {
		displayName: 'Dry Run',
		name: 'dryRun',
		type: 'boolean',
		default: false,
		displayOptions: { show },
		description,
		routing: { send: { type: 'body', property: 'input.dryRun', value: OFF_UNSENT } },
	};
}

/**
 * The Verify switch of one revocation; description says what evidence it
 * reads. Hidden during a dry run, which revokes nothing to verify.
 */
export function verifyField(show: Show, description: string): INodeProperties {
	return {
		displayName: 'Verify',
		name: 'verify',
		type: 'boolean',
		default: false,
		displayOptions: { show: { ...show, dryRun: [false] } },
		description,
		routing: { send: { type: 'body', property: 'input.verify', value: OFF_UNSENT } },
	};
}
