//go:build e2e

package e2e

// allWorkflows is every workflow the tests run, imported once at start-up.
func allWorkflows() []workflow {
	var all []workflow
	all = append(all, threeCxWorkflows()...)
	return all
}
