# The fleet figure of make bench: sign-ins per burst of 300 callers over 3
# replicas sharing one Redis (target 1), and what a token read from Redis
# costs against one held in memory. Needs redis-server (the benchmarks
# start their own).
.PHONY: bench-fleet
bench: bench-fleet
bench-fleet:
	$(GO) test -run '^$$' -bench 'FleetSignInsPerBurst|TokenFrom' -benchtime 100x ./sidecar/fleet/
