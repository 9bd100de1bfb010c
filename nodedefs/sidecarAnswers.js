'use strict';

// How a node reads the sidecar's answers. The routing engine sends every
// request with ignoreHttpStatusErrors, so this hook sees failures too and
// turns an RFC 9457 problem into a node error that carries the problem's
// detail and field errors (n8n's default message for a 4xx says neither).
// With the node's On Error set to Continue, n8n puts that message in the
// item's `error` field.

const { NodeApiError } = require('n8n-workflow');

async function sidecarAnswer(items, response) {
	const body = response.body;
	if (response.statusCode >= 400) {
		const problem =
			body !== null && typeof body === 'object' && !Array.isArray(body)
				? body
				: { detail: typeof body === 'string' ? body.slice(0, 500) : '' };
		const fieldErrors = Array.isArray(problem.errors)
			? problem.errors.map((e) => `${e.field}: ${e.message}`)
			: [];
		throw new NodeApiError(this.getNode(), problem, {
			message: problem.detail || problem.title || `The sidecar answered HTTP ${response.statusCode}`,
			description: [problem.title, ...fieldErrors, problem.type].filter(Boolean).join('\n'),
			httpCode: String(response.statusCode),
		});
	}
	// A list asked to count its matches: the total goes on every item, as
	// there is no item for the list itself.
	if (body && Array.isArray(body.data) && body.meta && typeof body.meta.count === 'number') {
		for (const entity of body.data) {
			if (entity !== null && typeof entity === 'object') entity.totalCount = body.meta.count;
		}
	}
	return items;
}

// withSidecarAnswers puts sidecarAnswer first in every operation's output
// steps, before the step that splits `data` into items.
function withSidecarAnswers(description) {
	for (const property of description.properties) {
		if (property.name !== 'operation') continue;
		for (const option of property.options) {
			const output = option.routing.output || (option.routing.output = {});
			output.postReceive = [sidecarAnswer, ...(output.postReceive || [])];
		}
	}
	return description;
}

module.exports = { withSidecarAnswers };
