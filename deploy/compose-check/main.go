// compose-check loads docker-compose.yml with compose-go, the loader Docker Compose itself uses
// (schema validation, interpolation, merge keys, profiles), and fails on anything it rejects.
// No Docker engine needed. scripts/check_deploy.sh runs it when build/tools/bin/compose-check
// exists; build it with:
//
//	cd deploy/compose-check && GOBIN=$PWD/../../build/tools/bin go install .
//
// Usage: compose-check FILE [PROFILE...]   (prints the resolved project as YAML)
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE [PROFILE...]")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions(
		[]string{os.Args[1]}, cli.WithProfiles(os.Args[2:]), cli.WithInterpolation(true),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "invalid:", err)
		os.Exit(1)
	}
	resolved, err := project.MarshalYAML()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(string(resolved))
}
