// Command kube-apiserver is the upstream API server, built from the Go module
// proxy so tests can validate manifests server-side without a cluster.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
