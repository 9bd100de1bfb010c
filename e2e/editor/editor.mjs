// Drives the n8n editor in Debian's Chromium (playwright-core) the way a
// user meets the pack: find each node in the node creator, open one of its
// operations, create its credential in the form with a wrong secret (the
// test must fail and say why), then with the right one (the test must
// succeed), and open the node's picker if it has one. Screenshots of every
// step go to OUT_DIR. Run by e2e/editor_test.go:
//   node editor.mjs N8N_URL EMAIL PASSWORD OUT_DIR PLAN_JSON
// PLAN_JSON lists the nodes: [{"search", "node", "action", "fields":
// {"Label": "value"}, "secret": "Label", "wrongSecret", "picker"}]. Prints
// one JSON line per node with what the user saw; exits non-zero on the
// first step that fails.
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

// Fills credential fields by their label. The label exactly: "API Key" must
// not find "Sidecar API Key". The label element also holds the
// Fixed/Expression toggle, so the match is on the text inside it.
const labelText = 'label .n8n-text, [data-test-id="input-label"] .n8n-text, label, [data-test-id="input-label"]';
const fillCredential = async (dialog, fields) => {
	for (const [label, value] of Object.entries(fields)) {
		const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\*?\\s*$`);
		const field = dialog
			.locator('[data-test-id="credential-connection-parameter"]')
			.filter({ has: page.locator(labelText).filter({ hasText: exact }) })
			.first();
		await field.locator('input, textarea').first().fill(String(value));
	}
};

// A failed test: the form's danger banner, whose reason the user reads
// under "More details" (both n8n lines).
const failedBanner = (dialog) => dialog.locator('.el-tag--danger').filter({ hasText: /connect with these settings/ }).first();
const testFailure = async (dialog) => {
	const banner = failedBanner(dialog);
	await banner.waitFor();
	const more = banner.getByText('More details', { exact: true });
	if (await more.isVisible()) await more.click();
	return (await banner.innerText()).replace(/\s+/g, ' ').trim();
};

// Presses Save and waits for n8n's answer to the credential test it runs.
const saveAndTest = async () => {
	const tested = page.waitForResponse((r) => r.url().endsWith('/rest/credentials/test'));
	await byTest('credential-save-button').click();
	await tested;
};

let seen; // what the user saw on the node at hand, reported even if a step fails
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
		seen = { node: n.node };
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

		// :visible: n8n keeps a closed form in the page, hidden.
		const dialog = page.locator('[data-test-id="credential-edit-dialog"]:visible');
		await dialog.waitFor();
		// A wrong secret first: the user must be told the test failed, and why.
		await fillCredential(dialog, { ...n.fields, [n.secret]: n.wrongSecret });
		await snap(`${n.search}-credential-filled`);
		// Saving a credential that has a test request runs the test.
		await saveAndTest();
		seen.failureShown = await testFailure(dialog);
		await snap(`${n.search}-credential-rejected`);

		// The right secret: n8n 1.x shows the test's success in the form;
		// 2.x closes the form when the test succeeds (the form was opened
		// from the node) and shows the success when the credential is
		// opened again, as n8n tests it on opening.
		await fillCredential(dialog, { [n.secret]: n.fields[n.secret] });
		await saveAndTest();
		// The failure banner stays up until the new answer is shown, so the
		// wait is for a success; a failure shows when it never comes.
		const ok = dialog.locator('[data-test-id="credentials-config-container-test-success"]:visible');
		const settled = { timeout: 20_000 }; // the answer is in: only the page's update is awaited
		await Promise.race([ok.waitFor({ state: 'visible', ...settled }), dialog.waitFor({ state: 'hidden', ...settled })]).catch(() => {});
		seen.closedOnSave = !(await dialog.isVisible());
		if (seen.closedOnSave) {
			await snap(`${n.search}-credential-saved`);
			await byTest('credential-edit-button').first().click();
			await dialog.waitFor();
			await Promise.race([ok.waitFor({ state: 'visible' }), failedBanner(dialog).waitFor({ state: 'visible' })]);
		}
		seen.credentialTested = await ok.isVisible();
		seen.testMessage = seen.credentialTested ? (await ok.innerText()).replace(/\s+/g, ' ').trim() : await testFailure(dialog);
		await snap(`${n.search}-credential-tested`);
		// Its close button: Escape would close the node's form as well (2.x).
		const close = page.locator('.el-dialog').filter({ has: dialog }).locator('.el-dialog__headerbtn');
		if (await close.count()) await close.first().click();
		else await page.keyboard.press('Escape');
		await dialog.waitFor({ state: 'hidden' });
		// The node now uses the credential: its name in the node's select
		// (1.x keeps it in the select's input, 2.x in a span).
		const select = byTest('node-credentials-select').first();
		const typed = select.locator('input:not([type="hidden"])').first();
		seen.credentialSelected = ((await typed.count()) ? await typed.inputValue() : '') || (await select.innerText()).trim();

		if (n.picker) {
			// The picker's "From list", filled by the node's list search
			// through the sidecar with the credential just made.
			await byTest(`resource-locator-${n.picker}`).locator('[data-test-id="rlc-input"]').first().click();
			// The list is teleported out of the picker (2.x), so it is
			// found on the page.
			const items = page.locator('[data-test-id="rlc-item"]:visible');
			const error = page.locator('[data-test-id="rlc-error-container"]:visible');
			await Promise.race([items.first().waitFor(), error.first().waitFor()]);
			seen.pickerItems = (await items.allInnerTexts()).map((t) => t.trim());
			if (await error.first().isVisible()) seen.pickerError = (await error.first().innerText()).replace(/\s+/g, ' ').trim();
			await snap(`${n.search}-picker`);
			await page.keyboard.press('Escape');
		}
		console.log(JSON.stringify(seen));
		seen = undefined;
	}
} catch (err) {
	if (seen) console.log(JSON.stringify(seen));
	if (page) await snap('failure').catch(() => {});
	console.error(err instanceof Error ? err.stack : String(err));
	process.exitCode = 1;
} finally {
	await browser.close();
	fs.rmSync(userData, { recursive: true, force: true });
}
