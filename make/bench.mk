# Benchmarks: the real binary (built as `make build` builds it) against
# in-process emulators on loopback. Prints a table; writes bench-results/latest.json.
.PHONY: bench
bench: build
	$(GO) run ./sidecar/cmd/twbench --binary $(BIN) --out bench-results/latest.json $(BENCHFLAGS)
