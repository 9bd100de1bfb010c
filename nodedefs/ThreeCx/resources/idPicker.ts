// The 3CX pickers: an entity ID chosen from a list the sidecar reads
// (shared/listSearch.ts), typed, or mapped with an expression. The XAPI
// keys entities by number, so the text the picker holds is sent as one.
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
