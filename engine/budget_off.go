//go:build !busd_budget

package engine

// spendBudget stands in for JSON validation in the measurement build (see
// budget_on.go). In every other build it does nothing and compiles away.
func spendBudget() {}
