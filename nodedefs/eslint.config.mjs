// n8n's own lint setup for community nodes (what `n8n-node lint` runs:
// @n8n/eslint-plugin-community-nodes recommended, eslint-plugin-n8n-nodes-base,
// typescript-eslint), with one change: its node rules are bound to ./nodes/,
// and this pack keeps its nodes in ./nodedefs/, so they are bound there too.
import { config } from '@n8n/node-cli/eslint';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';

export default [
	...config,
	{
		files: ['./nodedefs/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// The same three the CLI turns off for ./nodes/.
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
		},
	},
];
