// Command vtexplain is Vitess's own query planner run without a cluster, built
// from the Go module proxy: it plans SQL against a schema and a VSchema and
// prints the queries each shard would receive (test/vitess checks the hotel
// booking transactions with it).
package main

import (
	"fmt"

	"vitess.io/vitess/go/cmd/vtexplain/cli"
	"vitess.io/vitess/go/exit"
	"vitess.io/vitess/go/vt/utils"
)

func main() {
	defer exit.RecoverAll()

	cli.Main.SetGlobalNormalizationFunc(utils.NormalizeUnderscoresToDashes)
	if err := cli.Main.Execute(); err != nil {
		fmt.Printf("ERROR: %s\n", err)
		exit.Return(1)
	}
}
