"""Decoding what users upload: audio (`audio`), images (`images`), PDFs and scans (`documents`), and
tables to run a model over, uploaded or from the Hub (`datasets`). Imports `core`, `config` and
`loading` (Hub access)."""
