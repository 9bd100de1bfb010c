# n8n node pack: build the community package, lint it, and run it in a real
# n8n against `tokenwarden demo`. Included by the Makefile (make/*.mk).

N8N_PACKAGE_DIR := dist/n8n-nodes-tokenwarden

.PHONY: n8n-package n8n-lint e2e

n8n-package:
	node .ci/build-n8n-package.mjs

n8n-lint: n8n-package
	bash .ci/lint-n8n-package $(N8N_PACKAGE_DIR)

# Installs n8n into a cache outside the repo on first use (a few minutes),
# then imports and runs every e2e workflow headless. The package is linted
# first, so CI (which runs make e2e) holds it to n8n's rules too.
e2e: n8n-lint
	N8N_BIN="$$(bash .ci/install-n8n)" TOKENWARDEN_N8N_PACKAGE="$(CURDIR)/$(N8N_PACKAGE_DIR)" \
		$(GO) test -tags e2e -count=1 -timeout 20m -v ./e2e/
