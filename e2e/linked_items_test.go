//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Every item a node of the pack gives is linked to the input item it came
// from (pairedItem), so `$('Node').item` works after it: after a list that
// gives several items per input item, and on the error output, where n8n's
// routing engine links nothing by itself.

// Inputs of the linked-items workflows: each list input asks for two
// tokens (Id k and k+1); of the revoke inputs one exists and two do not.
var (
	linkedListInputs   = []any{3, 10, 16}
	linkedRevokeInputs = []any{21, unknownTokenID, unknownTokenID - 1}
)

func linkedItemsWorkflows() []workflow {
	list := chain("pairList", append(items("tokenId", linkedListInputs),
		tw("Two Tokens Each", threeCxType, map[string]any{
			"resource": "securityToken", "operation": "list",
			"options": map[string]any{"filter": "={{ 'Id ge ' + $json.tokenId + ' and Id le ' + ($json.tokenId + 1) }}", "select": "Id,DisplayName", "orderBy": "Id"},
		}),
		audit("Audit", `={ "id": {{ $json.Id }}, "askedFor": {{ $('Split Items').item.json.tokenId }} }`))...)

	revoke := tw("Revoke Each", threeCxType, map[string]any{
		"resource": "securityToken", "operation": "revoke", "id": "={{ $json.tokenId }}",
	})
	revoke.OnError = "continueErrorOutput"
	errs := chain("pairError", append(items("tokenId", linkedRevokeInputs), revoke)...)
	report := audit("Report Failure", `={ "failedId": {{ $('Split Items').item.json.tokenId }}, "message": {{ JSON.stringify($json.error) }} }`)
	ok := audit("Report Success", `={ "revokedId": {{ $json.id }}, "askedFor": {{ $('Split Items').item.json.tokenId }} }`)
	for _, n := range []*wfNode{&report, &ok} {
		n.ID = "pairError-" + strings.ToLower(strings.ReplaceAll(n.Name, " ", ""))
	}
	errs.Nodes = append(errs.Nodes, ok, report)
	errs.Connections["Revoke Each"] = map[string]any{"main": [][]map[string]any{
		{{"node": ok.Name, "type": "main", "index": 0}},
		{{"node": report.Name, "type": "main", "index": 0}},
	}}
	return []workflow{list, errs}
}

// audit is a Set node writing one JSON object per item.
func audit(name, jsonOutput string) wfNode {
	return wfNode{Name: name, Type: "n8n-nodes-base.set", TypeVersion: 3.4,
		Parameters: map[string]any{"mode": "raw", "jsonOutput": jsonOutput, "options": map[string]any{}}}
}

// output returns the items a node put on one of its outputs.
func (r *run) output(t *testing.T, node string, index int) []item {
	t.Helper()
	runs := r.Data.ResultData.RunData[node]
	if len(runs) == 0 {
		t.Fatalf("node %q did not run; nodes that ran: %v", node, keys(r.Data.ResultData.RunData))
	}
	main := runs[len(runs)-1].Data["main"]
	if len(main) <= index {
		return nil
	}
	var out []item
	for _, raw := range main[index] {
		var it item
		if err := json.Unmarshal(raw, &it); err != nil {
			t.Fatalf("node %q: item %s: %v", node, raw, err)
		}
		out = append(out, it)
	}
	return out
}

func TestLinkedItemsAfterAListFedThreeItems(t *testing.T) {
	r := execute(t, "pairList")
	mustSucceed(t, r)
	got := r.items(t, "Audit")
	if len(got) != 2*len(linkedListInputs) {
		t.Fatalf("Audit got %d items, want %d (two tokens for each of %v): %+v", len(got), 2*len(linkedListInputs), linkedListInputs, got)
	}
	for _, it := range got {
		id, asked := fmt.Sprint(it.JSON["id"]), fmt.Sprint(it.JSON["askedFor"])
		if id != asked && id != fmt.Sprint(toInt(asked)+1) {
			t.Errorf("token %s was listed for input %s, but $('Split Items').item points at input %s", id, "k or k-1", asked)
		}
	}
}

func TestLinkedItemsOnTheErrorOutput(t *testing.T) {
	r := execute(t, "pairError")
	mustSucceed(t, r)
	ok := r.output(t, "Revoke Each", 0)
	failed := r.output(t, "Revoke Each", 1)
	if len(ok) != 1 || len(failed) != 2 {
		t.Fatalf("Revoke Each: %d items on the success output, %d on the error output; want 1 and 2", len(ok), len(failed))
	}
	for _, it := range failed {
		if it.JSON["tokenId"] == nil || it.JSON["error"] == nil {
			t.Errorf("an error item keeps the input's json beside error, got %v", it.JSON)
		}
	}
	success := r.items(t, "Report Success")
	if len(success) != 1 || fmt.Sprint(success[0].JSON["revokedId"]) != fmt.Sprint(success[0].JSON["askedFor"]) {
		t.Errorf("Report Success: %v, want the revoked id linked to its input", success)
	}
	reports := r.items(t, "Report Failure")
	if len(reports) != 2 {
		t.Fatalf("Report Failure got %d items, want 2", len(reports))
	}
	seen := map[string]bool{}
	for _, it := range reports {
		id := fmt.Sprint(it.JSON["failedId"])
		msg := fmt.Sprint(it.JSON["message"])
		seen[id] = true
		if !strings.Contains(msg, "RefreshToken with Id "+id+" was not found") {
			t.Errorf("failure for %s reads %q: the linked input and the error disagree", id, msg)
		}
	}
	if !seen[fmt.Sprint(unknownTokenID)] || !seen[fmt.Sprint(unknownTokenID-1)] {
		t.Errorf("Report Failure names %v, want both unknown ids", seen)
	}
}

func toInt(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
