// Command waybill is the whole of Waybill: API, dashboard, CLI and workers.
package main

import (
	"os"

	"github.com/waybill/waybill/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(cli.Run(os.Args[1:], version, os.Stdin, os.Stdout, os.Stderr))
}
