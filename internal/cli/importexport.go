package cli

// ImportCmd groups CSV imports.
type ImportCmd struct {
}

// ExportCmd groups CSV exports.
type ExportCmd struct {
}
