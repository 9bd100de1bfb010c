// Drives the n8n editor in Debian's Chromium (playwright-core) the way a
// user meets the pack: find each node in the node creator, open one of its
// operations, create its credential in the form, and let n8n test it.
// Screenshots of every step go to OUT_DIR. Run by e2e/editor_test.go:
//   node editor.mjs N8N_URL EMAIL PASSWORD OUT_DIR PLAN_JSON
// PLAN_JSON lists the nodes: [{"search", "node", "action", "credential",
// "fields": {"Label": "value"}}]. Prints one JSON line per node with what
// it saw; exits non-zero on the first step that fails.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// playwright-core comes from the cached toolchain (.ci/install-n8n-toolchain),
// named by NODE_PATH; import() does not read NODE_PATH, require does.
const require = createRequire(path.join(process.env.NODE_PATH ?? '', 'noop.js'));
const { chromium } = require('playwright-core');

const [url, email, password, outDir, planJSON] = process.argv.slice(2);
const plan = JSON.parse(planJSON);
fs.mkdirSync(outDir, { recursive: true });

const userData = fs.mkdtempSync(path.join(outDir, 'profile-'));
const browser = await chromium.launchPersistentContext(userData, {
	executablePath: '/usr/bin/chromium',
	headless: true,
	viewport: { width: 1440, height: 900 },
	args: [
		'--headless',
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
	],
});
const step = 60_000; // generous: the editor is slow on a loaded 2-core machine
let page;
let shot = 0;
const snap = async (name) => {
	shot += 1;
	await page.screenshot({ path: path.join(outDir, `${String(shot).padStart(2, '0')}-${name}.png`) });
};
const byTest = (id) => page.locator(`[data-test-id="${id}"]`);

try {
	page = await browser.newPage();
	page.setDefaultTimeout(step);
	// Sign in as a user would (n8n binds its session to the browser).
	await page.goto(`${url}/signin`, { waitUntil: 'domcontentloaded' });
	await page.locator('input[name="emailOrLdapLoginId"], input[name="email"], input[type="email"]').first().fill(email);
	await page.locator('input[name="password"], input[type="password"]').first().fill(password);
	await snap('signin');
	await page.getByRole('button', { name: /sign in/i }).first().click();
	await page.waitForURL((u) => !u.pathname.startsWith('/signin'));

	for (const n of plan) {
		const seen = { node: n.node };
		await page.goto(`${url}/workflow/new`, { waitUntil: 'domcontentloaded' });
		await byTest('canvas-plus-button').first().click();
		await byTest('node-creator-search-bar').fill(n.search);
		const item = byTest('node-creator-item-name').filter({ hasText: new RegExp(`^${n.node}$`) }).first();
		await item.waitFor();
		seen.inNodeCreator = true;
		await snap(`${n.search}-node-creator`);
		await item.click();
		const action = page.getByText(n.action, { exact: true }).first();
		await action.waitFor();
		await snap(`${n.search}-actions`);
		await action.click();

		// The node's form opens (n8n adds a manual trigger before it).
		await byTest('node-credentials-select').first().waitFor();
		seen.operationOpened = true;
		await snap(`${n.search}-node-form`);
		await byTest('node-credentials-select').first().click();
		await byTest('node-credentials-select-item-new').first().click();

		const dialog = byTest('credential-edit-dialog');
		const labelText = 'label .n8n-text, [data-test-id="input-label"] .n8n-text, label, [data-test-id="input-label"]';
		await dialog.waitFor();
		for (const [label, value] of Object.entries(n.fields)) {
			// The label exactly: "API Key" must not find "Sidecar API Key". The
			// label element also holds the Fixed/Expression toggle, so the
			// match is on the text inside it.
			const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\*?\\s*$`);
			const field = dialog
				.locator('[data-test-id="credential-connection-parameter"]')
				.filter({ has: page.locator(labelText).filter({ hasText: exact }) })
				.first();
			const input = field.locator('input, textarea').first();
			await input.fill(String(value));
		}
		await snap(`${n.search}-credential-filled`);
		// Saving a credential that has a test request runs the test.
		await byTest('credential-save-button').click();
		const ok = byTest('credentials-config-container-test-success');
		// The form's own "Need help filling out these fields?" notice is an
		// alert too, shown before any test: it is not the test's answer.
		const failed = dialog
			.locator('.el-alert, [role="alert"]')
			.filter({ hasText: /./ })
			.filter({ hasNotText: /Need help filling out these fields/ });
		await Promise.race([ok.waitFor({ state: 'visible' }), failed.first().waitFor({ state: 'visible' })]);
		seen.credentialTested = await ok.isVisible();
		seen.testMessage = seen.credentialTested ? 'Connection tested successfully' : await failed.first().innerText();
		await snap(`${n.search}-credential-tested`);
		console.log(JSON.stringify(seen));
		if (!seen.credentialTested) throw new Error(`${n.node}: the credential test failed: ${seen.testMessage}`);
	}
} catch (err) {
	if (page) await snap('failure').catch(() => {});
	console.error(err instanceof Error ? err.stack : String(err));
	process.exitCode = 1;
} finally {
	await browser.close();
	fs.rmSync(userData, { recursive: true, force: true });
}
