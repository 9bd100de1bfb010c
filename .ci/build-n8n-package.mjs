// Builds the installable n8n community package n8n-nodes-tokenwarden into
// dist/: the JSON node and credential descriptions, thin JS classes that load
// them, codex files and icons, and an npm tarball. Run by `make n8n-package`.
//
// Each credential's test request names the connection object once; the
// build copies it into requestDefaults of the nodes that use the credential,
// so the mapping from credential fields to the sidecar's connection lives in
// one place.
//
// A credential either sends that connection or names a profile the sidecar
// keeps (connectionMode "profile"), never both: the sidecar refuses a body
// with both members. n8n resolves each string of a body on its own, so a
// nested mapping whose fields all resolve to undefined still arrives as an
// object ({"tls": {}}). The build therefore folds the mapping into one
// expression that yields the whole object or undefined, and n8n's JSON
// serialisation leaves an undefined member out of the body.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'n8n-nodes-tokenwarden');
const readJSON = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));
const writeJSON = (p, v) => fs.writeFileSync(p, JSON.stringify(v, null, 2) + '\n');
const write = (p, s) => fs.writeFileSync(p, s);

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'dist', 'credentials'), { recursive: true });

const manifest = readJSON(path.join(root, 'nodedefs', 'package.json'));
const icons = new Map(); // file name -> source path

for (const dir of fs.readdirSync(path.join(root, 'nodedefs'), { withFileTypes: true })) {
	if (!dir.isDirectory()) continue;
	for (const f of fs.readdirSync(path.join(root, 'nodedefs', dir.name))) {
		if (f.endsWith('.svg')) icons.set(f, path.join(root, 'nodedefs', dir.name, f));
	}
}

// The Test button's request must not fail on an error status, or n8n shows
// its generic message for the status; the shared rules name the problem.
const { rules: testRules } = readJSON(path.join(root, 'credentials', 'testRules.json'));

// connectionExpression folds a nested mapping of "={{ expr }}" strings into
// one expression: the object in details mode, undefined in profile mode.
// Pieces are joined with spaces so no "}}" ends the expression early.
function connectionExpression(mapping) {
	const fold = (v) => {
		if (v !== null && typeof v === 'object') {
			return `{ ${Object.entries(v).map(([k, sub]) => `${JSON.stringify(k)}: ${fold(sub)}`).join(', ')} }`;
		}
		const m = typeof v === 'string' && /^=\{\{([\s\S]*)\}\}$/.exec(v);
		if (!m) throw new Error(`connection mapping value ${JSON.stringify(v)} is not an expression`);
		return `(${m[1].trim()})`;
	};
	return `={{ $credentials.connectionMode === 'profile' ? undefined : ${fold(mapping)} }}`;
}

const credentials = new Map(); // credential name -> description
for (const f of fs.readdirSync(path.join(root, 'credentials')).sort()) {
	if (!f.endsWith('.credential.json')) continue;
	const cls = f.slice(0, -'.credential.json'.length);
	const desc = readJSON(path.join(root, 'credentials', f));
	const { connection, ...rest } = desc.test.request.body;
	const body = { connection: connectionExpression(connection), ...rest };
	desc.test = { request: { ...desc.test.request, body, ignoreHttpStatusErrors: true }, rules: testRules };
	credentials.set(desc.name, desc);
	writeJSON(path.join(out, 'dist', 'credentials', f), desc);
	write(
		path.join(out, 'dist', 'credentials', `${cls}.credentials.js`),
		`'use strict';\n\nconst description = require('./${f}');\n\n` +
			`class ${cls} {\n\tconstructor() {\n\t\tObject.assign(this, description);\n\t}\n}\n\n` +
			`module.exports = { ${cls} };\n`,
	);
	const icon = desc.icon && desc.icon.replace(/^file:/, '');
	if (icon) fs.copyFileSync(icons.get(icon), path.join(out, 'dist', 'credentials', icon));
	manifest.n8n.credentials.push(`dist/credentials/${cls}.credentials.js`);
}

fs.mkdirSync(path.join(out, 'dist', 'nodes'), { recursive: true });
fs.copyFileSync(path.join(root, 'nodedefs', 'sidecarAnswers.js'), path.join(out, 'dist', 'nodes', 'sidecarAnswers.js'));
for (const dir of fs.readdirSync(path.join(root, 'nodedefs'), { withFileTypes: true })) {
	if (!dir.isDirectory()) continue;
	const cls = dir.name;
	const src = path.join(root, 'nodedefs', cls);
	const dst = path.join(out, 'dist', 'nodes', cls);
	fs.mkdirSync(dst, { recursive: true });
	const desc = readJSON(path.join(src, `${cls}.description.json`));
	const cred = credentials.get(desc.credentials[0].name);
	if (!cred) throw new Error(`${cls}: credential ${desc.credentials[0].name} not found in credentials/`);
	desc.requestDefaults.body = { ...cred.test.request.body, ...desc.requestDefaults.body };
	writeJSON(path.join(dst, `${cls}.description.json`), desc);
	fs.copyFileSync(path.join(src, `${cls}.node.json`), path.join(dst, `${cls}.node.json`));
	for (const f of fs.readdirSync(src)) if (f.endsWith('.svg')) fs.copyFileSync(path.join(src, f), path.join(dst, f));
	write(
		path.join(dst, `${cls}.node.js`),
		`'use strict';\n\nconst { withSidecarAnswers } = require('../sidecarAnswers');\n` +
			`const description = withSidecarAnswers(require('./${cls}.description.json'));\n\n` +
			`class ${cls} {\n\tconstructor() {\n\t\tthis.description = description;\n\t}\n}\n\n` +
			`module.exports = { ${cls} };\n`,
	);
	manifest.n8n.nodes.push(`dist/nodes/${cls}/${cls}.node.js`);
}

writeJSON(path.join(out, 'package.json'), manifest);
fs.copyFileSync(path.join(root, 'docs', 'n8n.md'), path.join(out, 'README.md'));

const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', path.join(root, 'dist')], { cwd: out, encoding: 'utf8' }).trim();
console.log(`built ${path.relative(root, out)} and dist/${tgz.split('\n').pop()}`);
