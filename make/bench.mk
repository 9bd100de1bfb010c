# Benchmarks: the production binary (as the container builds it: no demo
# emulators) against in-process emulators on loopback. Prints a table;
# writes bench-results/latest.json.
.PHONY: bench
bench: build-nodemo
	$(GO) run ./sidecar/cmd/twbench --binary $(BIN)-nodemo --out bench-results/latest.json $(BENCHFLAGS)
