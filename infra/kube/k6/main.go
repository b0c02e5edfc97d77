// Command k6 is the upstream k6 CLI, unmodified, built from the Go module proxy
// (whose version list of go.k6.io/k6/v2 is empty, which defeats `go install`).
package main

import "go.k6.io/k6/v2/cmd"

func main() {
	cmd.Execute()
}
