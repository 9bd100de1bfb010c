// Lints a built n8n-nodes-tokenwarden package with n8n's community-node rules.
// Usage: node lint-n8n-package.cjs PACKAGE_DIR NODE_MODULES (see lint-n8n-package).
//
// n8n's rules read node and credential descriptions from the class literal in
// TypeScript source. Ours are JSON files loaded by thin classes, so this
// writes a lint-only view: the same package with each description inlined as
// the literal the rules expect, beside the shipped JavaScript, icons, codex
// files and package.json. Nothing in the view is shipped.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const [pkg, modules] = process.argv.slice(2);
const need = (m) => require(require.resolve(m, { paths: [modules] }));
const { ESLint } = need('eslint');
const tsParser = need('@typescript-eslint/parser');
const base = need('eslint-plugin-n8n-nodes-base');

// literal writes a value as TypeScript source, keys unquoted where they can
// be: the rules look for identifier keys such as icon and usableAsTool.
function literal(v, indent = '') {
	const next = indent + '\t';
	if (Array.isArray(v)) {
		if (v.length === 0) return '[]';
		return `[\n${v.map((x) => next + literal(x, next)).join(',\n')},\n${indent}]`;
	}
	if (v !== null && typeof v === 'object') {
		const entries = Object.entries(v);
		if (entries.length === 0) return '{}';
		const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));
		// Connection types are written as the constant whose value they are.
		const value = (k, x, next) =>
			(k === 'inputs' || k === 'outputs') && Array.isArray(x) && x.every((c) => c === 'main')
				? `[${x.map(() => 'NodeConnectionTypes.Main').join(', ')}]`
				: literal(x, next);
		return `{\n${entries.map(([k, x]) => `${next}${key(k)}: ${value(k, x, next)}`).join(',\n')},\n${indent}}`;
	}
	return JSON.stringify(v);
}

async function main() {
	const community = (await import(require.resolve('@n8n/eslint-plugin-community-nodes', { paths: [modules] }))).default;
	const view = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-lint-'));
	try {
		fs.cpSync(pkg, view, { recursive: true });
		// The rules expect sources in nodes/ and credentials/ beside dist/.
		for (const kind of ['nodes', 'credentials']) {
			fs.cpSync(path.join(pkg, 'dist', kind), path.join(view, kind), { recursive: true });
		}
		for (const dir of fs.readdirSync(path.join(view, 'nodes'), { withFileTypes: true })) {
			if (!dir.isDirectory()) continue;
			const cls = dir.name;
			const d = path.join(view, 'nodes', cls);
			const desc = JSON.parse(fs.readFileSync(path.join(d, `${cls}.description.json`), 'utf8'));
			fs.writeFileSync(
				path.join(d, `${cls}.node.ts`),
				`import { NodeConnectionTypes, type INodeType, type INodeTypeDescription } from 'n8n-workflow';\n\n` +
					`export class ${cls} implements INodeType {\n\tdescription: INodeTypeDescription = ${literal(desc, '\t')};\n}\n`,
			);
			fs.rmSync(path.join(d, `${cls}.node.js`));
		}
		fs.rmSync(path.join(view, 'nodes', 'sidecarAnswers.js'));
		for (const f of fs.readdirSync(path.join(view, 'credentials'))) {
			if (!f.endsWith('.credential.json')) continue;
			const cls = f.slice(0, -'.credential.json'.length);
			const desc = JSON.parse(fs.readFileSync(path.join(view, 'credentials', f), 'utf8'));
			const fields = Object.entries(desc)
				.map(([k, v]) => `\t${k} = ${literal(v, '\t')}${k === 'icon' ? ' as const' : ''};`)
				.join('\n\n');
			fs.writeFileSync(
				path.join(view, 'credentials', `${cls}.credentials.ts`),
				`import type { ICredentialType } from 'n8n-workflow';\n\nexport class ${cls} implements ICredentialType {\n${fields}\n}\n`,
			);
			fs.rmSync(path.join(view, 'credentials', `${cls}.credentials.js`));
		}

		const baseRules = (name) => base.configs[name].rules;
		const eslint = new ESLint({
			cwd: view,
			overrideConfigFile: true,
			overrideConfig: [
				{
					files: ['**/*.ts', '**/*.js', 'package.json'],
					languageOptions: { parser: tsParser, parserOptions: { sourceType: 'module', extraFileExtensions: ['.json'] } },
					linterOptions: { reportUnusedDisableDirectives: 'off' },
				},
				{ files: ['**/*.ts', '**/*.js', 'package.json'], ...community.configs.recommended },
				{
					files: ['nodes/**/*.ts'],
					plugins: { 'n8n-nodes-base': base },
					rules: {
						...baseRules('nodes'),
						// These two predate NodeConnectionTypes and contradict the
						// community plugin's node-connection-type-literal; n8n's
						// community starter turns them off as well.
						'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
						'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
					},
				},
				{
					files: ['credentials/**/*.ts'],
					plugins: { 'n8n-nodes-base': base },
					// documentationUrl as a camel-cased slug only applies inside n8n's
					// own repository; n8n's community starter turns the rule off too.
					rules: { ...baseRules('credentials'), 'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off' },
				},
				{ files: ['package.json'], plugins: { 'n8n-nodes-base': base }, rules: baseRules('community') },
			],
		});
		const results = await eslint.lintFiles(['nodes/**/*.ts', 'credentials/**/*.ts', 'dist/**/*.js', 'package.json']);
		const formatter = await eslint.loadFormatter('stylish');
		const text = formatter.format(results).split(view + path.sep).join('');
		const errors = results.reduce((n, r) => n + r.errorCount, 0);
		const warnings = results.reduce((n, r) => n + r.warningCount, 0);
		if (text.trim()) console.log(text);
		console.log(`n8n lint: ${results.length} files, ${errors} errors, ${warnings} warnings`);
		process.exitCode = errors > 0 ? 1 : 0;
	} finally {
		fs.rmSync(view, { recursive: true, force: true });
	}
}

main().catch((err) => {
	console.error(err);
	process.exitCode = 1;
});
