// Prints what a built n8n-nodes-tokenwarden package declares, as JSON, for
// the Go tests that hold it against the sidecar's schemas (nodedefs/
// contract_test.go) and build credentials from it (e2e/):
//   {"nodes": {"<Folder>": [description per version]},
//    "credentials": {"<name>": description},
//    "connections": {"<provider>": mapping}}
// Functions (the hooks in nodedefs/shared/sidecar.ts) are left out, as n8n
// leaves them out of what it sends to the editor.
// Usage: node describe-n8n-package.cjs PACKAGE_DIR (n8n-workflow resolvable
// through NODE_PATH, as n8n provides it at run time).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(process.argv[2]);
const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
const only = (mod) => Object.values(mod).find((v) => typeof v === 'function');

const out = { nodes: {}, credentials: {}, connections: {} };
for (const file of manifest.n8n.nodes) {
	const Node = only(require(path.join(pkg, file)));
	const node = new Node();
	const versions = node.nodeVersions ? Object.values(node.nodeVersions) : [node];
	out.nodes[path.basename(path.dirname(file))] = versions.map((v) => v.description);
}
for (const file of manifest.n8n.credentials) {
	const Credential = only(require(path.join(pkg, file)));
	const c = new Credential();
	out.credentials[c.name] = { ...c };
}
const connections = require(path.join(pkg, 'dist', 'nodedefs', 'shared', 'connections.js'));
const render = connections.connectionMapping;
const providers = { threeCxConnection: 'threecx', appgateConnection: 'appgate', oauthConnection: 'oauth' };
for (const [name, spec] of Object.entries(connections)) if (providers[name]) out.connections[providers[name]] = render(spec);
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
