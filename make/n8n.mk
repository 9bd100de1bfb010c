# n8n node pack: build the community package with n8n's CLI, lint it with
# n8n's rules and the package scanner's checks, and run it in real n8n
# (1.123.81 on Node 20 and 2.41.1 on Node 24) against `tokenwarden demo`.
# Included by the Makefile (make/*.mk).

N8N_PACKAGE_DIR := dist/n8n-nodes-tokenwarden
N8N_LINES       ?= 1.123.81 2.41.1

.PHONY: n8n-package n8n-lint e2e

n8n-package:
	node .ci/build-n8n-package.mjs

n8n-lint: n8n-package
	bash .ci/lint-n8n-package

# Installs each n8n line into a cache outside the repo on first use (minutes),
# then imports and runs every e2e workflow headless in both lines side by
# side. The package is linted first, so CI (which runs make e2e) holds it to
# n8n's rules too.
e2e: n8n-lint
	bash .ci/e2e-n8n-lines $(N8N_PACKAGE_DIR) $(N8N_LINES)
