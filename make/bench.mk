# Benchmarks (docs/operations.md): the production binary (-tags nodemo, as
# the container builds it), `tokenwarden emulators` from the full build, a
# bare httputil.ReverseProxy and the load generator, each in its own
# process; 3 interleaved rounds, medians and spread. Prints a table; writes
# bench-results/latest.json with a "targets" list.
.PHONY: bench
bench: build build-nodemo
	$(GO) run ./sidecar/cmd/twbench --binary $(BIN)-nodemo --emulators $(BIN) --out bench-results/latest.json $(BENCHFLAGS)
