//go:build e2e

package e2e

// allWorkflows is every workflow the tests run, imported once at start-up.
func allWorkflows() ([]workflow, error) {
	var all []workflow
	all = append(all, threeCxWorkflows()...)
	examples, err := exampleWorkflows()
	if err != nil {
		return nil, err
	}
	return append(all, examples...), nil
}
