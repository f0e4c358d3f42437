// Package migrations embeds the numbered, append-only SQL migrations. Each file
// serves both engines; a file starts with a comment saying why it exists.
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
