# Fuzzing beyond the seed corpora (which `make test` already runs).
# FUZZTIME=30s make fuzz runs every target for that long, one after another.

FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./sidecar/action:FuzzParseEnvelope \
	./sidecar/action:FuzzInvoke \
	./sidecar/provider/threecx:FuzzAPIProblem \
	./sidecar/provider/threecx:FuzzPropertyList \
	./sidecar/provider/appgate:FuzzControllerErrors \
	./sidecar/provider/oauth:FuzzErrorProblem \
	./sidecar/upstream:FuzzRetryAfter \
	./sidecar/upstream:FuzzGuard

.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done
