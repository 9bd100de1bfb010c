// What the 3CX resources share: the picker of an entity ID (chosen from a
// list the sidecar reads, shared/listSearch.ts, typed, or mapped with an
// expression; the XAPI keys entities by number, so the text the picker
// holds is sent as one), and the wording of Verify for both revocations.
import type { INodeProperties } from 'n8n-workflow';

export function idPicker(p: {
	displayName: string;
	description: string;
	hint?: string;
	placeholder: string;
	searchListMethod: string;
	show: NonNullable<INodeProperties['displayOptions']>['show'];
}): INodeProperties {
	return {
		displayName: p.displayName,
		name: 'id',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		displayOptions: { show: p.show },
		description: p.description,
		...(p.hint ? { hint: p.hint } : {}),
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: p.placeholder,
				typeOptions: { searchListMethod: p.searchListMethod, searchable: true },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. 42',
				validation: [{ type: 'regex', properties: { regex: '^[0-9]+$', errorMessage: 'An ID is a whole number' } }],
			},
		],
		routing: { send: { type: 'body', property: 'input.id', value: '={{ Number($value) }}' } },
	};
}

/** What Verify reads for both 3CX revocations. */
export const verifyRevocation =
	"Whether to read the token back from the PBX after revoking it, to prove the revocation took: verified is true with the token's Revoked time as evidence. A token the PBX still lists as not revoked stops the node with the error revocation-unverified.";
