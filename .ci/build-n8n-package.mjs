// Builds the installable n8n community package n8n-nodes-tokenwarden into
// dist/ with n8n's own CLI, then packs it. Run by `make n8n-package`.
//
// The sources are TypeScript: nodedefs/<Node>/<Node>.node.ts and
// credentials/<X>.credentials.ts. `n8n-node build` (from @n8n/node-cli)
// expects them in a package folder with package.json and tsconfig.json at
// its root; this repository's root is the Go module, so the sources, the
// pack's package.json, tsconfig.json and eslint.config.mjs (kept in
// nodedefs/) are laid out in dist/.build and the CLI runs there, with the
// cached toolchain as its node_modules (.ci/install-n8n-toolchain). The CLI
// compiles with tsc and copies the icons; it leaves out the codex files
// (<Node>.node.json), which this copies beside each node.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// TOKENWARDEN_DIST builds elsewhere (a test run may be using dist/).
const dist = path.resolve(process.env.TOKENWARDEN_DIST || path.join(root, 'dist'));
const stage = path.join(dist, '.build');
const out = path.join(dist, 'n8n-nodes-tokenwarden');
const readJSON = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));
const writeJSON = (p, v) => fs.writeFileSync(p, JSON.stringify(v, null, 2) + '\n');

const toolchain = execFileSync('bash', [path.join(root, '.ci', 'install-n8n-toolchain')], {
	encoding: 'utf8',
	stdio: ['ignore', 'pipe', 'inherit'],
})
	.trim()
	.split('\n')
	.pop();

fs.rmSync(stage, { recursive: true, force: true });
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });

// Sources and assets only: the contract test and config files stay behind.
const packConfig = new Set(['package.json', 'tsconfig.json', 'eslint.config.mjs']);
const isSource = (f) => /\.(ts|svg|png)$/.test(f) || /\.node\.json$/.test(f);
for (const dir of ['nodedefs', 'credentials']) {
	fs.cpSync(path.join(root, dir), path.join(stage, dir), {
		recursive: true,
		filter: (src) => {
			const rel = path.relative(path.join(root, dir), src);
			if (rel === '') return true;
			if (fs.statSync(src).isDirectory()) return true;
			return !packConfig.has(rel) && isSource(path.basename(src));
		},
	});
}
for (const f of packConfig) if (f !== 'package.json') fs.copyFileSync(path.join(root, 'nodedefs', f), path.join(stage, f));

// package.json lists every node and credential the sources define.
const manifest = readJSON(path.join(root, 'nodedefs', 'package.json'));
manifest.n8n.nodes = fs
	.readdirSync(path.join(root, 'nodedefs'), { withFileTypes: true })
	.filter((d) => d.isDirectory() && fs.existsSync(path.join(root, 'nodedefs', d.name, `${d.name}.node.ts`)))
	.map((d) => `dist/nodedefs/${d.name}/${d.name}.node.js`)
	.sort();
manifest.n8n.credentials = fs
	.readdirSync(path.join(root, 'credentials'))
	.filter((f) => f.endsWith('.credentials.ts'))
	.map((f) => `dist/credentials/${f.replace(/\.ts$/, '.js')}`)
	.sort();
writeJSON(path.join(stage, 'package.json'), manifest);
fs.symlinkSync(toolchain, path.join(stage, 'node_modules'), 'dir');

const bin = path.join(toolchain, '.bin');
const run = (cmd, args) =>
	execFileSync(path.join(bin, cmd), args, {
		cwd: stage,
		stdio: ['ignore', 'inherit', 'inherit'],
		env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, CI: 'true' },
	});
run('n8n-node', ['build']);

for (const d of fs.readdirSync(path.join(stage, 'nodedefs'), { withFileTypes: true })) {
	const codex = path.join(stage, 'nodedefs', d.name, `${d.name}.node.json`);
	if (d.isDirectory() && fs.existsSync(codex)) fs.copyFileSync(codex, path.join(stage, 'dist', 'nodedefs', d.name, `${d.name}.node.json`));
}

fs.mkdirSync(out, { recursive: true });
fs.cpSync(path.join(stage, 'dist'), path.join(out, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.tsbuildinfo') });
writeJSON(path.join(out, 'package.json'), manifest);
fs.copyFileSync(path.join(root, 'docs', 'n8n.md'), path.join(out, 'README.md'));

for (const f of fs.readdirSync(dist)) if (/^n8n-nodes-tokenwarden-.*\.tgz$/.test(f)) fs.rmSync(path.join(dist, f));
const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dist], { cwd: out, encoding: 'utf8' }).trim();
console.log(`built ${path.relative(root, out)} and dist/${tgz.split('\n').pop()}`);
