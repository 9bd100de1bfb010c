// Runs @n8n/scan-community-package's checks on the packed tarball, as far as
// they run without publishing. The scanner (npx @n8n/scan-community-package
// NAME) first checks the npm provenance of a published version, fetches the
// GitHub source it attests and lints it, then lints the published tarball.
// Provenance and the source fetch need a published package and github.com;
// the two lint legs are the scanner's own analyzePackage with its own
// config, run here on:
//   - the tarball, exactly as the scanner does: its compiled .js and
//     package.json;
//   - the package's sources as `make n8n-package` lays them out. The
//     scanner looks for them in nodes/ and credentials/ beside package.json;
//     this repository keeps nodes in nodedefs/, so that folder is named
//     instead (its nodes ruleset is bound to nodes/ and is run by
//     `n8n-node lint` through nodedefs/eslint.config.mjs instead).
// Usage: node scan-n8n-package.mjs TARBALL SOURCE_DIR TOOLCHAIN_NODE_MODULES
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [tgz, sources, modules] = process.argv.slice(2);
const scanner = await import(pathToFileURL(path.join(modules, '@n8n/scan-community-package/scanner/scanner.mjs')).href);

const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-scan-'));
let failed = false;
try {
	execFileSync('tar', ['-xzf', tgz, '-C', unpacked, '--strip-components=1']);
	const legs = [
		['tarball (compiled .js, package.json)', unpacked, ['**/*.js', 'package.json']],
		[
			'sources (package.json, nodedefs/, credentials/)',
			sources,
			scanner.SOURCE_FILE_PATTERNS.map((p) => p.replace('{nodes,credentials}', '{nodedefs,credentials}')),
		],
	];
	for (const [name, dir, patterns] of legs) {
		const result = await scanner.analyzePackage(dir, patterns);
		console.log(`scan ${name}: ${result.passed ? 'passed' : 'FAILED'}${result.message ? ` (${result.message})` : ''}`);
		if (result.details) console.log(result.details);
		if (!result.passed) failed = true;
	}
	const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'package.json'), 'utf8'));
	const runtime = Object.keys(manifest.dependencies ?? {});
	console.log(`runtime dependencies: ${runtime.length ? runtime.join(', ') : 'none'}`);
	if (runtime.length) failed = true;
	console.log('not run (need a published version and github.com): provenance check, fetch of the attested source');
} finally {
	fs.rmSync(unpacked, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
