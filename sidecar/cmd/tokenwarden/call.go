package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// callCmd runs one action in-process for pipelines without n8n. It prints
// exactly what POST /v1/actions/{id} would answer.
func callCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	connFile := fs.String("connection", "", "file holding the connection JSON object (- for stdin)")
	input := fs.String("input", "{}", "input JSON, or @FILE to read it from a file")
	profile := fs.String("profile", "", "use a profile from the config file instead of --connection")
	configPath := fs.String("config", os.Getenv("TOKENWARDEN_CONFIG"), "config file (profiles, allowlist, limits)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: tokenwarden call ACTION (--connection FILE | --profile NAME --config FILE) --input JSON|@FILE")
		return 2
	}
	id := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if (*connFile == "") == (*profile == "") {
		fmt.Fprintln(stderr, "tokenwarden call: give exactly one of --connection FILE and --profile NAME")
		return 2
	}
	var conn json.RawMessage
	if *connFile != "" {
		var err error
		if conn, err = readArg(*connFile, true); err != nil {
			fmt.Fprintln(stderr, "tokenwarden call: --connection:", err)
			return 2
		}
	}
	in, err := readArg(*input, false)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden call: --input:", err)
		return 2
	}
	rt, err := loadRuntime(*configPath, true, newLogger(stderr))
	if err != nil {
		printStartupError(stderr, err)
		return 1
	}
	defer rt.close()
	res, err := rt.reg.Invoke(ctx, id, action.Envelope{Connection: conn, Profile: *profile, Input: in})
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err != nil {
		p, ok := asProblem(err)
		if !ok {
			p = action.NewProblem(action.KindInternal, "%v", err)
		}
		_ = enc.Encode(p)
		return 1
	}
	_ = enc.Encode(res)
	if res.Incomplete != nil {
		// The items that arrived are printed (meta says truncated and
		// why), but a script must not take part of a list for the whole.
		fmt.Fprintf(stderr, "tokenwarden call: the list broke off: %s\n", res.Incomplete.Detail)
		return 1
	}
	return 0
}

func asProblem(err error) (*action.Problem, bool) {
	var p *action.Problem
	ok := errors.As(err, &p)
	return p, ok
}

// readArg reads a value given inline, as @FILE, or (for files) as a path or
// "-" for stdin.
func readArg(v string, isFile bool) (json.RawMessage, error) {
	path := ""
	switch {
	case isFile:
		path = v
	case strings.HasPrefix(v, "@"):
		path = v[1:]
	default:
		return json.RawMessage(v), nil
	}
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

func actionsCmd(stdout, stderr io.Writer) int {
	rt, err := loadRuntime("", false, newLogger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	}
	for _, d := range rt.reg.Actions() {
		fmt.Fprintf(stdout, "%-32s %s\n", d.ID, d.Title)
	}
	return 0
}
